/* libFuzzer harness: a journal segment opened by recovery. A real journal's segment header
 * (made once per process) is followed by the fuzz bytes as the record area, so every input
 * reaches the record scanner (a mutated header mostly fails its CRC); the journal is then
 * opened, every record read back, and closed. */
#include "nw_error.h"
#include "nw_journal.h"

#include <dirent.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char s_dir[64];      /* this process's journal folder */
static char s_seg[128];     /* its one segment file */
static uint8_t *s_header;   /* the segment as created, header only */
static size_t s_header_len; /* bytes of it */

static void s_init(void)
{
    snprintf(s_dir, sizeof s_dir, "/tmp/nw-fuzz-journal.%d", (int)getpid());
    nw_journal_opts_t jo;
    nw_journal_opts_default(&jo);
    jo.fsync = NW_JOURNAL_FSYNC_NEVER;
    nw_journal_recovery_t rec;
    nw_journal_t *j = NULL;
    if (nw_journal_open(s_dir, &jo, &j, &rec) != NW_OK)
        abort();
    nw_journal_destroy(&j);
    DIR *d = opendir(s_dir);
    struct dirent *de;
    while (d != NULL && (de = readdir(d)) != NULL) {
        size_t n = strlen(de->d_name);
        if (n > 4 && strcmp(de->d_name + n - 4, ".seg") == 0)
            snprintf(s_seg, sizeof s_seg, "%s/%s", s_dir, de->d_name);
    }
    if (d != NULL)
        closedir(d);
    FILE *f = fopen(s_seg, "rb");
    if (f == NULL || (s_header = malloc(1 << 20)) == NULL)
        abort();
    s_header_len = fread(s_header, 1, 1 << 20, f);
    fclose(f);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (s_header == NULL)
        s_init();
    FILE *f = fopen(s_seg, "wb");
    if (f == NULL)
        return 0;
    fwrite(s_header, 1, s_header_len, f);
    fwrite(data, 1, size, f);
    fclose(f);
    nw_journal_opts_t jo;
    nw_journal_opts_default(&jo);
    jo.fsync = NW_JOURNAL_FSYNC_NEVER;
    nw_journal_recovery_t rec;
    nw_journal_t *j = NULL;
    if (nw_journal_open(s_dir, &jo, &j, &rec) != NW_OK)
        return 0;
    nw_journal_iter_t *it = NULL;
    if (nw_journal_iter_from_seq(j, 0, &it) == NW_OK) {
        nw_journal_record_t r;
        for (int n = 0; n < 100000 && nw_journal_iter_next(it, &r) != NW_ERR_NOTFOUND; n++)
            ;
        nw_journal_iter_destroy(&it);
    }
    nw_journal_destroy(&j);
    return 0;
}
