/* Tests for publisher/journal/nw_journal: append, recovery, rotation, retention, iterators, disk
 * full, failed fsync. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "nw_error.h"
#include "nw_journal.h"
#include "nw_testproc.h"

/* ---- helpers ---- */

static char *s_tmpdir(void)
{
    char *d = strdup("/tmp/nw-journal-test-XXXXXX");
    assert_non_null(d);
    assert_non_null(mkdtemp(d));
    return d;
}

/* Removes a journal directory (flat: no subdirectories) and the parent made by s_tmpdir. */
static void s_rmdir(const char *dir)
{
    DIR *d = opendir(dir);
    if (d == NULL)
        return;
    struct dirent *e;
    char path[512];
    while ((e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        struct stat st;
        if (stat(path, &st) == 0 && S_ISDIR(st.st_mode))
            s_rmdir(path);
        else
            unlink(path);
    }
    closedir(d);
    rmdir(dir);
}

static void s_seg_path(char *out, size_t size, const char *dir, uint64_t first_seq)
{
    snprintf(out, size, "%s/%020llu.seg", dir, (unsigned long long)first_seq);
}

static off_t s_file_size(const char *path)
{
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    return st.st_size;
}

static size_t s_count_segments(const char *dir)
{
    DIR *d = opendir(dir);
    assert_non_null(d);
    size_t n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        size_t len = strlen(e->d_name);
        if (len > 4 && strcmp(e->d_name + len - 4, ".seg") == 0)
            n++;
    }
    closedir(d);
    return n;
}

/* The frame of seq: "frame-<seq>-" padded with a seq-dependent letter to size bytes. */
static void s_frame(uint64_t seq, size_t size, char *out)
{
    int n = snprintf(out, size, "frame-%llu-", (unsigned long long)seq);
    for (size_t i = (size_t)n; i < size; i++)
        out[i] = (char)('a' + seq % 26);
}

/* Topics of seq: 1 mod 3 -> tariffs, 2 mod 3 -> defense, 0 mod 3 -> both. */
static void s_alert(nw_journal_t *j, uint64_t seq, nw_alert_t *a)
{
    char id[64];
    assert_int_equal(nw_alert_init(a), NW_OK);
    snprintf(id, sizeof id, "%016llx.%llu", (unsigned long long)(seq / 10),
             (unsigned long long)(seq % 10));
    assert_int_equal(nw_alert_set(&a->id, id), NW_OK);
    if (seq % 3 != 2)
        assert_int_equal(nw_alert_add_topic(a, "tariffs"), NW_OK);
    if (seq % 3 != 1)
        assert_int_equal(nw_alert_add_topic(a, "defense"), NW_OK);
    assert_int_equal(nw_journal_number(j, a), NW_OK);
}

/* Appends alerts until next_seq reaches upto, each at time = 1000 * seq, frame size bytes. */
static void s_append_upto(nw_journal_t *j, uint64_t upto, size_t size)
{
    char frame[2048];
    assert_true(size <= sizeof frame);
    while (nw_journal_next_seq(j) < upto) {
        nw_alert_t a;
        uint64_t seq = nw_journal_next_seq(j);
        s_alert(j, seq, &a);
        assert_int_equal(a.seq, seq);
        s_frame(seq, size, frame);
        assert_int_equal(nw_journal_append(j, &a, frame, size, (int64_t)seq * 1000), NW_OK);
        nw_alert_clear(&a);
    }
}

static void s_id_of(uint64_t seq, char *out, size_t size)
{
    snprintf(out, size, "%016llx.%llu", (unsigned long long)(seq / 10),
             (unsigned long long)(seq % 10));
}

/* Drains *it_p, checking each record is seq first, first+1, ... with its id and frame, then
 * destroys it; returns how many records it yielded. */
static uint64_t s_drain(nw_journal_iter_t **it_p, uint64_t first, size_t size)
{
    nw_journal_iter_t *it = *it_p;
    nw_journal_record_t rec;
    char frame[2048], id[64];
    uint64_t n = 0;
    int rc;
    while ((rc = nw_journal_iter_next(it, &rec)) == NW_OK) {
        assert_int_equal(rec.seq, first + n);
        s_id_of(rec.seq, id, sizeof id);
        assert_string_equal(rec.id, id);
        assert_int_equal(rec.time_ms, (int64_t)rec.seq * 1000);
        assert_int_equal(rec.frame_len, size);
        s_frame(rec.seq, size, frame);
        assert_memory_equal(rec.frame, frame, size);
        assert_int_equal(rec.n_topics, rec.seq % 3 == 0 ? 2 : 1);
        n++;
    }
    assert_int_equal(rc, NW_ERR_NOTFOUND);
    nw_journal_iter_destroy(it_p);
    return n;
}

static nw_journal_opts_t s_opts(uint64_t segment_max)
{
    nw_journal_opts_t o;
    nw_journal_opts_default(&o);
    o.segment_max = segment_max;
    o.fsync = NW_JOURNAL_FSYNC_NEVER;
    return o;
}

static nw_journal_t *s_open(const char *dir, const nw_journal_opts_t *o, nw_journal_recovery_t *rep)
{
    nw_journal_t *j = NULL;
    int rc = nw_journal_open(dir, o, &j, rep);
    if (rc != NW_OK)
        fail_msg("open %s: %s: %s", dir, nw_strerror(rc), rep->message);
    return j;
}

/* Bitwise CRC32C: the reference the journal's table-driven one must agree with. */
static uint32_t s_crc32c_ref(uint32_t crc, const uint8_t *p, size_t n)
{
    crc = ~crc;
    while (n-- > 0) {
        crc ^= *p++;
        for (int k = 0; k < 8; k++)
            crc = (crc & 1) ? (crc >> 1) ^ 0x82F63B78u : crc >> 1;
    }
    return ~crc;
}

static uint32_t s_le32(const uint8_t *p)
{
    return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24);
}

static uint64_t s_le64(const uint8_t *p)
{
    return (uint64_t)s_le32(p) | ((uint64_t)s_le32(p + 4) << 32);
}

/* ---- tests ---- */

static void test_reopen_keeps_stream_and_continues(void **state)
{
    (void)state;
    char *dir = s_tmpdir();
    nw_journal_opts_t o = s_opts(NW_JOURNAL_SEGMENT_DEFAULT);
    nw_journal_recovery_t rep;
    nw_journal_t *j = s_open(dir, &o, &rep);
    assert_true(rep.created);
    char stream[NW_STREAM_ID_LEN + 1];
    snprintf(stream, sizeof stream, "%s", nw_journal_stream_id(j));
    assert_int_equal(strlen(stream), NW_STREAM_ID_LEN);
    assert_int_equal(strspn(stream, "0123456789abcdef"), NW_STREAM_ID_LEN);
    s_append_upto(j, 11, 300);
    nw_journal_destroy(&j);
    assert_null(j);

    j = s_open(dir, &o, &rep);
    assert_false(rep.created);
    assert_int_equal(rep.damaged_segments, 0);
    assert_int_equal(rep.records, 10);
    assert_string_equal(rep.message, "");
    assert_string_equal(nw_journal_stream_id(j), stream);
    assert_int_equal(nw_journal_next_seq(j), 11);
    /* seqs 1..10: tariffs on 1,3,4,6,7,9,10 (7), defense on 2,3,5,6,8,9 (6). */
    assert_int_equal(nw_journal_topic_seq(j, "tariffs"), 7);
    assert_int_equal(nw_journal_topic_seq(j, "defense"), 6);
    assert_int_equal(nw_journal_topic_seq(j, "energy"), 0);
    assert_int_equal(nw_journal_topic_count(j), 2);
    const char *name;
    uint64_t seq;
    assert_int_equal(nw_journal_topic_at(j, 0, &name, &seq), NW_OK);
    assert_string_equal(name, "defense");
    assert_int_equal(seq, 6);
    char id[64];
    bool found;
    for (uint64_t s = 1; s <= 10; s++) {
        s_id_of(s, id, sizeof id);
        assert_int_equal(nw_journal_contains(j, id, &found), NW_OK);
        assert_true(found);
    }
    s_id_of(11, id, sizeof id);
    assert_int_equal(nw_journal_contains(j, id, &found), NW_OK);
    assert_false(found);
    assert_int_equal(nw_journal_contains(j, "0000000000000000.99", &found), NW_OK);
    assert_false(found);
    s_append_upto(j, 12, 300); /* numbering continues: seq 11 is defense's 7th */
    assert_int_equal(nw_journal_topic_seq(j, "defense"), 7);
    assert_int_equal(nw_journal_topic_seq(j, "tariffs"), 7);
    nw_journal_destroy(&j);
    nw_journal_destroy(&j); /* safe twice */

    char path[512], buf[64] = {0};
    snprintf(path, sizeof path, "%s/stream-id", dir);
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    assert_non_null(fgets(buf, sizeof buf, f));
    fclose(f);
    assert_int_equal(strncmp(buf, stream, NW_STREAM_ID_LEN), 0);
    s_rmdir(dir);
    free(dir);
}

static void test_new_journals_get_different_stream_ids(void **state)
{
    (void)state;
    char *d1 = s_tmpdir(), *d2 = s_tmpdir();
    nw_journal_recovery_t rep;
    nw_journal_t *a = s_open(d1, NULL, &rep);
    nw_journal_t *b = s_open(d2, NULL, &rep);
    assert_string_not_equal(nw_journal_stream_id(a), nw_journal_stream_id(b));
    nw_journal_destroy(&a);
    nw_journal_destroy(&b);
    s_rmdir(d1);
    s_rmdir(d2);
    free(d1);
    free(d2);
}

static void test_lost_stream_file_is_restored_from_segments(void **state)
{
    (void)state;
    char *dir = s_tmpdir();
    nw_journal_recovery_t rep;
    nw_journal_t *j = s_open(dir, NULL, &rep);
    char stream[NW_STREAM_ID_LEN + 1], path[512];
    snprintf(stream, sizeof stream, "%s", nw_journal_stream_id(j));
    s_append_upto(j, 3, 100);
    nw_journal_destroy(&j);
    snprintf(path, sizeof path, "%s/stream-id", dir);
    assert_int_equal(unlink(path), 0);
    j = s_open(dir, NULL, &rep);
    assert_false(rep.created);
    assert_string_equal(nw_journal_stream_id(j), stream);
    assert_int_equal(nw_journal_next_seq(j), 3);
    assert_int_equal(access(path, F_OK), 0);
    nw_journal_destroy(&j);
    s_rmdir(dir);
    free(dir);
}

static void test_journal_without_segments_starts_a_new_stream(void **state)
{
    (void)state;
    char *dir = s_tmpdir(), path[512];
    nw_journal_recovery_t rep;
    nw_journal_t *j = s_open(dir, NULL, &rep);
    char stream[NW_STREAM_ID_LEN + 1];
    snprintf(stream, sizeof stream, "%s", nw_journal_stream_id(j));
    s_append_upto(j, 3, 100);
    nw_journal_destroy(&j);
    s_seg_path(path, sizeof path, dir, 1);
    assert_int_equal(unlink(path), 0);
    /* Numbering from 1 again under the old id would collide with what subscribers saw. */
    j = s_open(dir, NULL, &rep);
    assert_true(rep.created);
    assert_non_null(strstr(rep.message, stream));
    assert_string_not_equal(nw_journal_stream_id(j), stream);
    assert_int_equal(nw_journal_next_seq(j), 1);
    nw_journal_destroy(&j);
    s_rmdir(dir);
    free(dir);
}

static void test_second_open_is_refused_while_locked(void **state)
{
    (void)state;
    char *dir = s_tmpdir();
    nw_journal_recovery_t rep;
    nw_journal_t *j = s_open(dir, NULL, &rep), *k = NULL;
    assert_int_equal(nw_journal_open(dir, NULL, &k, &rep), NW_ERR_IO);
    assert_null(k);
    assert_non_null(strstr(rep.message, "in use"));
    nw_journal_destroy(&j);
    k = s_open(dir, NULL, &rep); /* released on destroy */
    nw_journal_destroy(&k);
    s_rmdir(dir);
    free(dir);
}

static void test_append_rejects_wrong_numbers(void **state)
{
    (void)state;
    char *dir = s_tmpdir();
    nw_journal_recovery_t rep;
    nw_journal_t *j = s_open(dir, NULL, &rep);
    s_append_upto(j, 3, 100);
    nw_alert_t a;
    s_alert(j, 3, &a);
    a.seq = 2; /* a reused global seq */
    assert_int_equal(nw_journal_append(j, &a, "x", 1, 1), NW_ERR_INVAL);
    a.seq = 4; /* a hole */
    assert_int_equal(nw_journal_append(j, &a, "x", 1, 1), NW_ERR_INVAL);
    a.seq = 3;
    a.topics[0].seq = 1; /* tariffs is at 1 already */
    assert_int_equal(nw_journal_append(j, &a, "x", 1, 1), NW_ERR_INVAL);
    assert_non_null(strstr(nw_journal_errmsg(j), "tariffs"));
    a.topics[0].seq = 2;
    assert_int_equal(nw_journal_append(j, &a, "x", 0, 1), NW_ERR_TOOBIG);
    assert_int_equal(nw_journal_next_seq(j), 3);
    assert_int_equal(nw_journal_record_count(j), 2);
    assert_int_equal(nw_journal_append(j, &a, "x", 1, 1), NW_OK);
    nw_alert_clear(&a);
    nw_journal_destroy(&j);
    s_rmdir(dir);
    free(dir);
}

/* Writes 5 records of 300 bytes and returns the byte offset of the 5th in *off5 and the
 * segment size in *size. */
static void s_five(const char *dir, off_t *off5, off_t *size)
{
    nw_journal_recovery_t rep;
    nw_journal_opts_t o = s_opts(NW_JOURNAL_SEGMENT_DEFAULT);
    nw_journal_t *j = s_open(dir, &o, &rep);
    char path[512];
    s_seg_path(path, sizeof path, dir, 1);
    s_append_upto(j, 5, 300);
    *off5 = s_file_size(path);
    s_append_upto(j, 6, 300);
    *size = s_file_size(path);
    nw_journal_destroy(&j);
}

/* Reopens a journal whose 5th (last) record is damaged: 4 kept, reported, seq continues at 5. */
static void s_expect_tail_recovered(const char *dir, off_t off5, off_t size_now, const char *why)
{
    nw_journal_recovery_t rep;
    nw_journal_opts_t o = s_opts(NW_JOURNAL_SEGMENT_DEFAULT);
    nw_journal_t *j = s_open(dir, &o, &rep);
    assert_int_equal(rep.damaged_segments, 1);
    assert_int_equal(rep.truncated_bytes, (uint64_t)(size_now - off5));
    assert_int_equal(rep.damage_offset, (uint64_t)off5);
    assert_int_equal(rep.damage_seq, 5);
    assert_string_equal(rep.damage_segment, "00000000000000000001.seg");
    assert_non_null(strstr(rep.message, why));
    assert_int_equal(rep.records, 4);
    assert_int_equal(nw_journal_next_seq(j), 5);
    char path[512];
    s_seg_path(path, sizeof path, dir, 1);
    assert_int_equal(s_file_size(path), off5);
    nw_journal_iter_t *it;
    assert_int_equal(nw_journal_iter_from_seq(j, 1, &it), NW_OK);
    assert_int_equal(s_drain(&it, 1, 300), 4);
    bool found;
    char id[64];
    s_id_of(5, id, sizeof id);
    assert_int_equal(nw_journal_contains(j, id, &found), NW_OK);
    assert_false(found);
    s_append_upto(j, 7, 300); /* 5 and 6 again */
    nw_journal_destroy(&j);
    j = s_open(dir, &o, &rep);
    assert_int_equal(rep.damaged_segments, 0);
    assert_int_equal(rep.records, 6);
    assert_int_equal(nw_journal_iter_from_seq(j, 0, &it), NW_OK);
    assert_int_equal(s_drain(&it, 1, 300), 6);
    nw_journal_destroy(&j);
}

static void test_truncated_tail_is_cut_and_reported(void **state)
{
    (void)state;
    /* Cut inside the length, inside the CRC, just after the prefix, mid-body, one short. */
    const off_t cuts[] = {1, 5, 8, 40, -1};
    for (size_t i = 0; i < sizeof cuts / sizeof cuts[0]; i++) {
        char *dir = s_tmpdir(), path[512];
        off_t off5, size;
        s_five(dir, &off5, &size);
        off_t at = cuts[i] > 0 ? off5 + cuts[i] : size + cuts[i];
        s_seg_path(path, sizeof path, dir, 1);
        assert_int_equal(truncate(path, at), 0);
        s_expect_tail_recovered(dir, off5, at, "short record");
        s_rmdir(dir);
        free(dir);
    }
}

static void s_flip(const char *path, off_t at, uint8_t mask)
{
    int fd = open(path, O_RDWR);
    assert_true(fd >= 0);
    uint8_t b;
    assert_int_equal(pread(fd, &b, 1, at), 1);
    b ^= mask;
    assert_int_equal(pwrite(fd, &b, 1, at), 1);
    close(fd);
}

static void test_bit_flipped_tail_is_cut_and_reported(void **state)
{
    (void)state;
    struct {
        off_t at;        /* from the 5th record's start; < 0 from the end */
        const char *why; /* what the report must say */
    } cases[] = {{-1, "bad CRC"}, {12, "bad CRC"}, {2, "bad record length"}, {4, "bad CRC"}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *dir = s_tmpdir(), path[512];
        off_t off5, size;
        s_five(dir, &off5, &size);
        s_seg_path(path, sizeof path, dir, 1);
        s_flip(path, cases[i].at >= 0 ? off5 + cases[i].at : size + cases[i].at, 0x10);
        s_expect_tail_recovered(dir, off5, size, cases[i].why);
        s_rmdir(dir);
        free(dir);
    }
}

static void test_damage_mid_segment_keeps_what_is_before(void **state)
{
    (void)state;
    char *dir = s_tmpdir(), path[512];
    nw_journal_opts_t o = s_opts(NW_JOURNAL_SEGMENT_DEFAULT);
    nw_journal_recovery_t rep;
    nw_journal_t *j = s_open(dir, &o, &rep);
    s_seg_path(path, sizeof path, dir, 1);
    s_append_upto(j, 3, 300);
    off_t off3 = s_file_size(path);
    s_append_upto(j, 11, 300);
    off_t size = s_file_size(path);
    nw_journal_destroy(&j);
    s_flip(path, off3 + 100, 0x01);
    j = s_open(dir, &o, &rep);
    assert_int_equal(rep.damage_seq, 3);
    assert_int_equal(rep.truncated_bytes, (uint64_t)(size - off3));
    assert_int_equal(nw_journal_next_seq(j), 3);
    assert_int_equal(nw_journal_record_count(j), 2);
    nw_journal_destroy(&j);
    s_rmdir(dir);
    free(dir);
}

static void test_damaged_segment_header_refuses_open(void **state)
{
    (void)state;
    char *dir = s_tmpdir(), path[512];
    nw_journal_recovery_t rep;
    nw_journal_t *j = s_open(dir, NULL, &rep);
    s_append_upto(j, 3, 100);
    nw_journal_destroy(&j);
    s_seg_path(path, sizeof path, dir, 1);
    s_flip(path, 30, 0x01); /* inside first_seq */
    assert_int_equal(nw_journal_open(dir, NULL, &j, &rep), NW_ERR_JOURNAL_CORRUPT);
    assert_null(j);
    assert_non_null(strstr(rep.message, "00000000000000000001.seg"));
    s_rmdir(dir);
    free(dir);
}

static void test_record_layout_is_as_documented(void **state)
{
    (void)state;
    const uint8_t check[] = "123456789";
    assert_int_equal(s_crc32c_ref(0, check, 9), 0xE3069283u);
    char *dir = s_tmpdir(), path[512];
    nw_journal_recovery_t rep;
    nw_journal_t *j = s_open(dir, NULL, &rep);
    s_append_upto(j, 2, 300);
    nw_journal_destroy(&j);
    s_seg_path(path, sizeof path, dir, 1);
    uint8_t buf[4096];
    int fd = open(path, O_RDONLY);
    assert_true(fd >= 0);
    ssize_t n = read(fd, buf, sizeof buf);
    close(fd);
    assert_memory_equal(buf, "NWJS", 4);
    uint32_t hl = s_le32(buf + 8);
    assert_true(hl >= 52 && hl < (uint32_t)n);
    assert_int_equal(s_le32(buf + hl - 4), s_crc32c_ref(0, buf, hl - 4));
    assert_int_equal(s_le64(buf + 28), 1);
    const uint8_t *r = buf + hl;
    uint32_t body = s_le32(r);
    assert_int_equal(hl + 8 + body, (uint32_t)n);
    assert_int_equal(s_le32(r + 4), s_crc32c_ref(s_crc32c_ref(0, r, 4), r + 8, body));
    assert_int_equal(s_le64(r + 8), 1);     /* seq */
    assert_int_equal(s_le64(r + 16), 1000); /* time */
    assert_int_equal(s_le32(r + 24), 300);  /* frame length */
    assert_int_equal(r[28] | (r[29] << 8), strlen("0000000000000000.1"));
    assert_int_equal(r[30], 1); /* topics */
    assert_memory_equal(r + 32, "0000000000000000.1", 18);
    assert_int_equal(r[50], strlen("tariffs"));
    assert_memory_equal(r + 51, "tariffs", 7);
    assert_int_equal(s_le64(r + 58), 1);
    assert_memory_equal(r + 66, "frame-1-", 8);
    s_rmdir(dir);
    free(dir);
}

static void test_rotation_at_size_limit(void **state)
{
    (void)state;
    char *dir = s_tmpdir(), path[512];
    nw_journal_opts_t o = s_opts(4096);
    nw_journal_recovery_t rep;
    nw_journal_t *j = s_open(dir, &o, &rep);
    s_append_upto(j, 41, 300); /* 366 or 382 bytes a record: ~10 fit in 4096 */
    size_t n = nw_journal_segment_count(j);
    assert_true(n >= 4);
    assert_int_equal(s_count_segments(dir), n);
    /* Each closed segment is full: the next record would not have fit. */
    s_seg_path(path, sizeof path, dir, 1);
    off_t first = s_file_size(path);
    assert_true(first <= 4096 && first > 4096 - 400);
    nw_journal_iter_t *it;
    assert_int_equal(nw_journal_iter_from_seq(j, 1, &it), NW_OK);
    assert_int_equal(s_drain(&it, 1, 300), 40);
    nw_journal_destroy(&j);
    j = s_open(dir, &o, &rep);
    assert_int_equal(rep.segments, n);
    assert_int_equal(nw_journal_next_seq(j), 41);
    nw_journal_destroy(&j);
    s_rmdir(dir);
    free(dir);
}

static void test_oversized_record_fills_its_own_segment(void **state)
{
    (void)state;
    char *dir = s_tmpdir();
    nw_journal_opts_t o = s_opts(4096);
    nw_journal_recovery_t rep;
    nw_journal_t *j = s_open(dir, &o, &rep);
    s_append_upto(j, 2, 100);
    nw_alert_t a;
    s_alert(j, 2, &a);
    char *big = calloc(1, 10000);
    assert_non_null(big);
    assert_int_equal(nw_journal_append(j, &a, big, 10000, 2000), NW_OK);
    nw_alert_clear(&a);
    free(big);
    assert_int_equal(nw_journal_segment_count(j), 2);
    assert_int_equal(nw_journal_next_seq(j), 3);
    nw_journal_destroy(&j);
    s_rmdir(dir);
    free(dir);
}

static void test_retention_by_size_deletes_oldest(void **state)
{
    (void)state;
    char *dir = s_tmpdir(), path[512], id[64];
    nw_journal_opts_t o = s_opts(4096);
    o.retain_bytes = 3 * 4096;
    nw_journal_recovery_t rep;
    nw_journal_t *j = s_open(dir, &o, &rep);
    s_append_upto(j, 101, 300);
    assert_true(nw_journal_size(j) <= o.retain_bytes + 4096);
    assert_true(nw_journal_size(j) > o.retain_bytes - 4096);
    uint64_t first = nw_journal_first_seq(j);
    assert_true(first > 1);
    assert_int_equal(nw_journal_record_count(j), 100 - first + 1);
    s_seg_path(path, sizeof path, dir, 1);
    assert_int_not_equal(access(path, F_OK), 0);
    s_seg_path(path, sizeof path, dir, first);
    assert_int_equal(access(path, F_OK), 0);
    assert_int_equal(s_count_segments(dir), nw_journal_segment_count(j));
    bool found;
    s_id_of(first - 1, id, sizeof id);
    assert_int_equal(nw_journal_contains(j, id, &found), NW_OK);
    assert_false(found);
    s_id_of(first, id, sizeof id);
    assert_int_equal(nw_journal_contains(j, id, &found), NW_OK);
    assert_true(found);
    nw_journal_iter_t *it;
    assert_int_equal(nw_journal_iter_from_seq(j, 1, &it), NW_OK);
    assert_int_equal(s_drain(&it, first, 300), 100 - first + 1);
    nw_journal_destroy(&j);
    j = s_open(dir, &o, &rep);
    assert_int_equal(nw_journal_first_seq(j), first);
    assert_int_equal(nw_journal_next_seq(j), 101);
    /* Topic numbering survives even though the records that set it are gone. */
    assert_int_equal(nw_journal_topic_seq(j, "tariffs"), 67);
    assert_int_equal(nw_journal_topic_seq(j, "defense"), 66);
    nw_journal_destroy(&j);
    s_rmdir(dir);
    free(dir);
}

static void test_retention_by_age_never_deletes_active(void **state)
{
    (void)state;
    char *dir = s_tmpdir();
    nw_journal_opts_t o = s_opts(4096);
    o.retain_ms = 100000;
    nw_journal_recovery_t rep;
    nw_journal_t *j = s_open(dir, &o, &rep);
    s_append_upto(j, 41, 300); /* times 1000..40000, ~10 records a segment */
    size_t n = nw_journal_segment_count(j);
    assert_true(n >= 4);
    assert_int_equal(nw_journal_first_seq(j), 1);
    /* At now = 130000 a segment whose newest record is older than 30000 goes. */
    assert_int_equal(nw_journal_retain(j, 130000), NW_OK);
    uint64_t first = nw_journal_first_seq(j);
    assert_true(first > 1 && first <= 30);
    assert_int_equal(nw_journal_segment_count(j), s_count_segments(dir));
    assert_int_equal(nw_journal_retain(j, INT64_MAX / 2), NW_OK);
    assert_int_equal(nw_journal_segment_count(j), 1);
    assert_int_equal(s_count_segments(dir), 1);
    assert_int_equal(nw_journal_next_seq(j), 41);
    nw_journal_destroy(&j);
    s_rmdir(dir);
    free(dir);
}

static void test_iter_from_seq_time_and_last(void **state)
{
    (void)state;
    char *dir = s_tmpdir();
    nw_journal_opts_t o = s_opts(4096);
    nw_journal_recovery_t rep;
    nw_journal_t *j = s_open(dir, &o, &rep);
    s_append_upto(j, 51, 300);
    nw_journal_iter_t *it;
    assert_int_equal(nw_journal_iter_from_seq(j, 17, &it), NW_OK);
    assert_int_equal(s_drain(&it, 17, 300), 34);
    assert_int_equal(nw_journal_iter_from_seq(j, 51, &it), NW_OK);
    assert_int_equal(s_drain(&it, 51, 300), 0);
    /* Times are 1000 * seq: 23500 is between 23 and 24; 24000 hits 24 exactly. */
    assert_int_equal(nw_journal_iter_from_time(j, 23500, &it), NW_OK);
    assert_int_equal(s_drain(&it, 24, 300), 27);
    assert_int_equal(nw_journal_iter_from_time(j, 24000, &it), NW_OK);
    assert_int_equal(s_drain(&it, 24, 300), 27);
    assert_int_equal(nw_journal_iter_from_time(j, 0, &it), NW_OK);
    assert_int_equal(s_drain(&it, 1, 300), 50);
    assert_int_equal(nw_journal_iter_from_time(j, 50001, &it), NW_OK);
    assert_int_equal(s_drain(&it, 51, 300), 0);
    assert_int_equal(nw_journal_iter_last(j, 7, &it), NW_OK);
    assert_int_equal(s_drain(&it, 44, 300), 7);
    assert_int_equal(nw_journal_iter_last(j, 1000, &it), NW_OK);
    assert_int_equal(s_drain(&it, 1, 300), 50);
    assert_int_equal(nw_journal_iter_last(j, 0, &it), NW_OK);
    assert_int_equal(s_drain(&it, 51, 300), 0);
    nw_journal_destroy(&j);
    s_rmdir(dir);
    free(dir);
}

static void test_iter_yields_topics_with_their_seqs(void **state)
{
    (void)state;
    char *dir = s_tmpdir();
    nw_journal_recovery_t rep;
    nw_journal_t *j = s_open(dir, NULL, &rep);
    s_append_upto(j, 4, 100);
    nw_journal_iter_t *it;
    nw_journal_record_t rec;
    assert_int_equal(nw_journal_iter_from_seq(j, 3, &it), NW_OK);
    assert_int_equal(nw_journal_iter_next(it, &rec), NW_OK);
    assert_int_equal(rec.seq, 3);
    assert_int_equal(rec.n_topics, 2);
    assert_string_equal(rec.topics[0], "tariffs");
    assert_int_equal(rec.topic_seqs[0], 2);
    assert_string_equal(rec.topics[1], "defense");
    assert_int_equal(rec.topic_seqs[1], 2);
    nw_journal_iter_destroy(&it);
    nw_journal_destroy(&j);
    s_rmdir(dir);
    free(dir);
}

static void test_iter_survives_appends_rotation_and_retention(void **state)
{
    (void)state;
    char *dir = s_tmpdir();
    nw_journal_opts_t o = s_opts(4096);
    nw_journal_recovery_t rep;
    nw_journal_t *j = s_open(dir, &o, &rep);
    s_append_upto(j, 31, 300);
    nw_journal_iter_t *it;
    nw_journal_record_t rec;
    assert_int_equal(nw_journal_iter_from_seq(j, 1, &it), NW_OK);
    for (uint64_t s = 1; s <= 5; s++) {
        assert_int_equal(nw_journal_iter_next(it, &rec), NW_OK);
        assert_int_equal(rec.seq, s);
    }
    s_append_upto(j, 200, 300);                 /* many rotations while the iterator is parked */
    assert_int_equal(s_drain(&it, 6, 300), 25); /* stops at 30, its end at creation */
    nw_journal_destroy(&j);
    s_rmdir(dir);
    free(dir);
}

/* An iterator reads many records per read; a segment cut short under it (by hand, or a
 * disk fault) still yields every record before the cut, then reports the damage. */
static void test_iter_reads_up_to_a_cut_made_under_it(void **state)
{
    (void)state;
    char *dir = s_tmpdir(), path[512];
    nw_journal_opts_t o = s_opts(NW_JOURNAL_SEGMENT_DEFAULT);
    nw_journal_recovery_t rep;
    nw_journal_t *j = s_open(dir, &o, &rep);
    s_append_upto(j, 11, 300);
    s_seg_path(path, sizeof path, dir, 1);
    off_t size = s_file_size(path);
    assert_int_equal(truncate(path, size - 400), 0); /* the last record and part of the 9th */
    nw_journal_iter_t *it;
    nw_journal_record_t rec;
    assert_int_equal(nw_journal_iter_from_seq(j, 1, &it), NW_OK);
    for (uint64_t seq = 1; seq <= 8; seq++) {
        assert_int_equal(nw_journal_iter_next(it, &rec), NW_OK);
        assert_int_equal(rec.seq, seq);
        assert_int_equal(rec.frame_len, 300);
    }
    assert_int_equal(nw_journal_iter_next(it, &rec), NW_ERR_JOURNAL_CORRUPT);
    assert_non_null(strstr(nw_journal_errmsg(j), "shorter than its index"));
    nw_journal_iter_destroy(&it);
    nw_journal_destroy(&j);
    s_rmdir(dir);
    free(dir);
}

static void test_iter_skips_what_retention_deleted(void **state)
{
    (void)state;
    char *dir = s_tmpdir();
    nw_journal_opts_t o = s_opts(4096);
    o.retain_ms = 100000; /* nothing is old yet while appending */
    nw_journal_recovery_t rep;
    nw_journal_t *j = s_open(dir, &o, &rep);
    s_append_upto(j, 31, 300);
    nw_journal_iter_t *it;
    nw_journal_record_t rec;
    assert_int_equal(nw_journal_iter_from_seq(j, 1, &it), NW_OK);
    assert_int_equal(nw_journal_iter_next(it, &rec), NW_OK);
    assert_int_equal(rec.seq, 1);
    assert_int_equal(nw_journal_retain(j, 1000000), NW_OK); /* all but the active */
    uint64_t first = nw_journal_first_seq(j);
    assert_true(first > 2);
    assert_int_equal(s_drain(&it, first, 300), 31 - first);
    nw_journal_destroy(&j);
    s_rmdir(dir);
    free(dir);
}

static void test_write_failure_reports_full_then_resumes(void **state)
{
    (void)state;
    char *dir = s_tmpdir(), path[512], frame[300];
    nw_journal_opts_t o = s_opts(NW_JOURNAL_SEGMENT_DEFAULT);
    o.fsync = NW_JOURNAL_FSYNC_ALWAYS;
    nw_journal_recovery_t rep;
    nw_journal_t *j = s_open(dir, &o, &rep);
    s_append_upto(j, 4, 300);
    s_seg_path(path, sizeof path, dir, 1);
    off_t before = s_file_size(path);

    /* RLIMIT_FSIZE makes the write stop part-way (a short write, then EFBIG), as a full
     * disk would; SIGXFSZ is ignored so the write returns an error instead. */
    struct rlimit old, lim;
    assert_int_equal(getrlimit(RLIMIT_FSIZE, &old), 0);
    void (*prev)(int) = signal(SIGXFSZ, SIG_IGN);
    lim = old;
    lim.rlim_cur = (rlim_t)before + 100;
    assert_int_equal(setrlimit(RLIMIT_FSIZE, &lim), 0);
    nw_alert_t a;
    s_alert(j, 4, &a);
    s_frame(4, sizeof frame, frame);
    int rc = nw_journal_append(j, &a, frame, sizeof frame, 4000);
    int rc2 = nw_journal_append(j, &a, frame, sizeof frame, 4000); /* still full */
    off_t during = s_file_size(path);
    assert_int_equal(setrlimit(RLIMIT_FSIZE, &old), 0);
    signal(SIGXFSZ, prev);
    assert_int_equal(rc, NW_ERR_JOURNAL_FULL);
    assert_int_equal(rc2, NW_ERR_JOURNAL_FULL);
    assert_non_null(strstr(nw_journal_errmsg(j), "File too large"));
    assert_int_equal(during, before); /* the partial record was cut */
    assert_int_equal(nw_journal_next_seq(j), 4);

    /* Space is back: the same alert goes in, and the journal reads clean. */
    assert_int_equal(nw_journal_append(j, &a, frame, sizeof frame, 4000), NW_OK);
    nw_alert_clear(&a);
    s_append_upto(j, 6, 300);
    nw_journal_destroy(&j);
    j = s_open(dir, &o, &rep);
    assert_int_equal(rep.damaged_segments, 0);
    assert_int_equal(rep.records, 5);
    nw_journal_iter_t *it;
    assert_int_equal(nw_journal_iter_from_seq(j, 1, &it), NW_OK);
    assert_int_equal(s_drain(&it, 1, 300), 5);
    nw_journal_destroy(&j);
    s_rmdir(dir);
    free(dir);
}

static void test_rotation_failure_reports_full_then_resumes(void **state)
{
    (void)state;
    char *dir = s_tmpdir(), frame[300];
    nw_journal_opts_t o = s_opts(4096);
    nw_journal_recovery_t rep;
    nw_journal_t *j = s_open(dir, &o, &rep);
    char path[512];
    s_seg_path(path, sizeof path, dir, 1);
    /* Fill the segment until the next record (350 bytes + 16 per topic) would not fit. */
    uint64_t seq = 1;
    while (s_file_size(path) + 350 + 16 * (seq % 3 == 0 ? 2 : 1) <= 4096)
        s_append_upto(j, ++seq, 300);
    assert_int_equal(nw_journal_segment_count(j), 1);
    /* Make the new segment impossible to create: a directory where its file goes. */
    snprintf(path, sizeof path, "%s/%020llu.seg.tmp", dir, (unsigned long long)seq);
    assert_int_equal(mkdir(path, 0755), 0);
    nw_alert_t a;
    s_alert(j, seq, &a);
    s_frame(seq, sizeof frame, frame);
    assert_int_equal(nw_journal_append(j, &a, frame, sizeof frame, (int64_t)seq * 1000),
                     NW_ERR_JOURNAL_FULL);
    assert_non_null(strstr(nw_journal_errmsg(j), "segment"));
    assert_int_equal(nw_journal_segment_count(j), 1);
    assert_int_equal(rmdir(path), 0);
    assert_int_equal(nw_journal_append(j, &a, frame, sizeof frame, (int64_t)seq * 1000), NW_OK);
    nw_alert_clear(&a);
    assert_int_equal(nw_journal_segment_count(j), 2);
    nw_journal_iter_t *it;
    assert_int_equal(nw_journal_iter_from_seq(j, 1, &it), NW_OK);
    assert_int_equal(s_drain(&it, 1, 300), seq);
    nw_journal_destroy(&j);
    s_rmdir(dir);
    free(dir);
}

static void test_sync_policies_append_and_sync(void **state)
{
    (void)state;
    const nw_journal_fsync_t pol[] = {NW_JOURNAL_FSYNC_NEVER, NW_JOURNAL_FSYNC_INTERVAL,
                                      NW_JOURNAL_FSYNC_ALWAYS};
    for (size_t i = 0; i < 3; i++) {
        char *dir = s_tmpdir();
        nw_journal_opts_t o = s_opts(4096);
        o.fsync = pol[i];
        o.sync_every = 3;
        nw_journal_recovery_t rep;
        nw_journal_t *j = s_open(dir, &o, &rep);
        s_append_upto(j, 30, 300);
        assert_int_equal(nw_journal_sync(j), NW_OK);
        nw_journal_destroy(&j);
        j = s_open(dir, &o, &rep);
        assert_int_equal(rep.records, 29);
        nw_journal_destroy(&j);
        s_rmdir(dir);
        free(dir);
    }
}

/* Returns the fd this process holds read-write on the file at path (the journal's active
 * segment), found through /proc/self/fd; -1 when there is none. */
static int s_rw_fd_of(const char *path)
{
    char want[PATH_MAX], link[PATH_MAX], got[PATH_MAX];
    assert_non_null(realpath(path, want));
    DIR *d = opendir("/proc/self/fd");
    assert_non_null(d);
    int found = -1;
    struct dirent *e;
    while (found < 0 && (e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        int fd = atoi(e->d_name);
        snprintf(link, sizeof link, "/proc/self/fd/%s", e->d_name);
        ssize_t n = readlink(link, got, sizeof got - 1);
        if (n <= 0 || fd == dirfd(d))
            continue;
        got[n] = '\0';
        if (strcmp(got, want) == 0 && (fcntl(fd, F_GETFL) & O_ACCMODE) == O_RDWR)
            found = fd;
    }
    closedir(d);
    return found;
}

static void test_failed_sync_is_sticky_until_reopen(void **state)
{
    (void)state;
    char *dir = s_tmpdir(), path[512], frame[300];
    nw_journal_opts_t o = s_opts(NW_JOURNAL_SEGMENT_DEFAULT);
    o.fsync = NW_JOURNAL_FSYNC_INTERVAL;
    o.sync_every = 0; /* only nw_journal_sync syncs */
    o.sync_interval_ms = 0;
    nw_journal_recovery_t rep;
    nw_journal_t *j = s_open(dir, &o, &rep);
    s_append_upto(j, 4, 300); /* seqs 1-3, unsynced */
    assert_false(nw_journal_sync_failed(j));
    s_seg_path(path, sizeof path, dir, 1);
    int fd = s_rw_fd_of(path);
    assert_true(fd >= 0);

    /* fdatasync(2) of a pipe fails (EINVAL): a pipe put under the journal's fd for one
     * sync makes the real call fail once, as a writeback error (EIO) would. */
    int saved = dup(fd), p[2];
    assert_true(saved >= 0);
    assert_int_equal(pipe(p), 0);
    assert_int_equal(dup2(p[0], fd), fd);
    int rc = nw_journal_sync(j);
    assert_int_equal(dup2(saved, fd), fd);
    close(saved);
    close(p[0]);
    close(p[1]);
    assert_int_equal(rc, NW_ERR_SYNC);
    assert_true(nw_journal_sync_failed(j));
    assert_non_null(strstr(nw_journal_errmsg(j), "cannot sync"));
    assert_non_null(strstr(nw_journal_errmsg(j), "Invalid argument"));

    /* The file syncs fine again, as Linux's fdatasync does once it has reported a writeback
     * error: the journal must still refuse, or an article could move to done/ on its word. */
    assert_int_equal(fdatasync(fd), 0);
    assert_int_equal(nw_journal_sync(j), NW_ERR_SYNC);
    assert_non_null(strstr(nw_journal_errmsg(j), "an earlier fsync failed"));
    assert_non_null(strstr(nw_journal_errmsg(j), "Invalid argument"));
    nw_alert_t a;
    s_alert(j, 4, &a);
    s_frame(4, sizeof frame, frame);
    off_t before = s_file_size(path);
    assert_int_equal(nw_journal_append(j, &a, frame, sizeof frame, 4000), NW_ERR_SYNC);
    nw_alert_clear(&a);
    assert_int_equal(nw_journal_next_seq(j), 4);
    assert_int_equal(s_file_size(path), before); /* nothing written */
    nw_journal_destroy(&j);

    /* Reopening clears it: recovery reads what the file holds, and appends go on. */
    j = s_open(dir, &o, &rep);
    assert_false(nw_journal_sync_failed(j));
    assert_int_equal(rep.records, 3);
    assert_int_equal(rep.damaged_segments, 0);
    s_append_upto(j, 5, 300);
    assert_int_equal(nw_journal_sync(j), NW_OK);
    nw_journal_iter_t *it;
    assert_int_equal(nw_journal_iter_from_seq(j, 1, &it), NW_OK);
    assert_int_equal(s_drain(&it, 1, 300), 4);
    nw_journal_destroy(&j);
    s_rmdir(dir);
    free(dir);
}

/* The options the daemon's group commit opens the journal with: INTERVAL, no sync inside an
 * append. */
static nw_journal_opts_t s_group_opts(uint64_t segment_max)
{
    nw_journal_opts_t o = s_opts(segment_max);
    o.fsync = NW_JOURNAL_FSYNC_INTERVAL;
    o.sync_every = 0;
    o.sync_interval_ms = 0;
    return o;
}

/* The three-step sync the daemon runs on its thread pool: records appended while the
 * fdatasync runs stay unsynced for the next job, a rotation in the middle is harmless, and a
 * failed job poisons the journal as a failed nw_journal_sync does. */
static void test_sync_job_covers_what_came_before_it(void **state)
{
    (void)state;
    char *dir = s_tmpdir();
    nw_journal_opts_t o = s_group_opts(NW_JOURNAL_SEGMENT_MIN);
    nw_journal_recovery_t rep;
    nw_journal_t *j = s_open(dir, &o, &rep);
    nw_journal_sync_job_t job;
    assert_int_equal(nw_journal_sync_begin(j, &job), NW_OK);
    assert_int_equal(job.fd, -1); /* nothing appended: nothing to sync */
    assert_int_equal(nw_journal_sync_end(j, &job), NW_OK);

    s_append_upto(j, 4, 300);
    assert_int_equal(nw_journal_sync_begin(j, &job), NW_OK);
    assert_true(job.fd >= 0);
    assert_int_equal(job.below, 4);
    s_append_upto(j, 6, 300); /* while the sync "runs" */
    nw_journal_sync_run(&job);
    assert_int_equal(job.err, 0);
    assert_int_equal(nw_journal_sync_end(j, &job), NW_OK);
    assert_int_equal(job.fd, -1);
    /* Seqs 4 and 5 came after the job began: the next one has them to sync. */
    assert_int_equal(nw_journal_sync_begin(j, &job), NW_OK);
    assert_true(job.fd >= 0);
    /* The segment rotates away while this job runs (the rotation syncs it itself). */
    uint64_t upto = 6;
    while (nw_journal_segment_count(j) < 2)
        s_append_upto(j, ++upto, 1500);
    nw_journal_sync_run(&job);
    assert_int_equal(nw_journal_sync_end(j, &job), NW_OK);
    assert_int_equal(nw_journal_sync(j), NW_OK);
    assert_int_equal(nw_journal_sync_begin(j, &job), NW_OK);
    assert_int_equal(job.fd, -1); /* all synced */
    assert_int_equal(nw_journal_sync_end(j, &job), NW_OK);

    /* A job whose fdatasync fails (a pipe under its descriptor: EINVAL) poisons. */
    s_append_upto(j, upto + 2, 300);
    assert_int_equal(nw_journal_sync_begin(j, &job), NW_OK);
    int p[2];
    assert_int_equal(pipe(p), 0);
    assert_int_equal(dup2(p[0], job.fd), job.fd);
    close(p[0]);
    close(p[1]);
    nw_journal_sync_run(&job);
    assert_int_equal(job.err, EINVAL);
    assert_int_equal(nw_journal_sync_end(j, &job), NW_ERR_SYNC);
    assert_true(nw_journal_sync_failed(j));
    assert_non_null(strstr(nw_journal_errmsg(j), "cannot sync"));
    assert_int_equal(nw_journal_sync(j), NW_ERR_SYNC);
    assert_int_equal(nw_journal_sync_begin(j, &job), NW_ERR_SYNC);
    nw_journal_destroy(&j);
    s_rmdir(dir);
    free(dir);
}

/* The job's descriptor has its own open file description: Linux reports a writeback error
 * once per open file description, so with a duplicate (which shares the journal's) a job
 * that took an EIO would leave a rotation's or nw_journal_sync's fdatasync seeing success
 * for the same lost pages. */
static void test_sync_job_has_its_own_open_file_description(void **state)
{
    (void)state;
    char *dir = s_tmpdir();
    nw_journal_opts_t o = s_group_opts(NW_JOURNAL_SEGMENT_DEFAULT);
    nw_journal_recovery_t rep;
    nw_journal_t *j = s_open(dir, &o, &rep);
    s_append_upto(j, 3, 300);
    nw_journal_sync_job_t job;
    assert_int_equal(nw_journal_sync_begin(j, &job), NW_OK);
    assert_true(job.fd >= 0);
    /* 0: the journal's own descriptor of the segment does not move with the job's. */
    assert_int_equal(nw_test_fd_shared(job.fd), 0);
    nw_journal_sync_run(&job);
    assert_int_equal(nw_journal_sync_end(j, &job), NW_OK);
    assert_int_equal(nw_journal_synced_below(j), 3);
    nw_journal_destroy(&j);
    s_rmdir(dir);
    free(dir);
}

static void test_open_rejects_bad_options(void **state)
{
    (void)state;
    char *dir = s_tmpdir();
    nw_journal_opts_t o = s_opts(100); /* below NW_JOURNAL_SEGMENT_MIN */
    nw_journal_t *j = (nw_journal_t *)&o;
    nw_journal_recovery_t rep;
    assert_int_equal(nw_journal_open(dir, &o, &j, &rep), NW_ERR_INVAL);
    assert_null(j);
    o = s_opts(4096);
    o.retain_ms = -1;
    assert_int_equal(nw_journal_open(dir, &o, &j, &rep), NW_ERR_INVAL);
    s_rmdir(dir);
    free(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_reopen_keeps_stream_and_continues),
        cmocka_unit_test(test_new_journals_get_different_stream_ids),
        cmocka_unit_test(test_lost_stream_file_is_restored_from_segments),
        cmocka_unit_test(test_journal_without_segments_starts_a_new_stream),
        cmocka_unit_test(test_second_open_is_refused_while_locked),
        cmocka_unit_test(test_append_rejects_wrong_numbers),
        cmocka_unit_test(test_truncated_tail_is_cut_and_reported),
        cmocka_unit_test(test_bit_flipped_tail_is_cut_and_reported),
        cmocka_unit_test(test_damage_mid_segment_keeps_what_is_before),
        cmocka_unit_test(test_damaged_segment_header_refuses_open),
        cmocka_unit_test(test_record_layout_is_as_documented),
        cmocka_unit_test(test_rotation_at_size_limit),
        cmocka_unit_test(test_oversized_record_fills_its_own_segment),
        cmocka_unit_test(test_retention_by_size_deletes_oldest),
        cmocka_unit_test(test_retention_by_age_never_deletes_active),
        cmocka_unit_test(test_iter_from_seq_time_and_last),
        cmocka_unit_test(test_iter_yields_topics_with_their_seqs),
        cmocka_unit_test(test_iter_survives_appends_rotation_and_retention),
        cmocka_unit_test(test_iter_reads_up_to_a_cut_made_under_it),
        cmocka_unit_test(test_iter_skips_what_retention_deleted),
        cmocka_unit_test(test_write_failure_reports_full_then_resumes),
        cmocka_unit_test(test_rotation_failure_reports_full_then_resumes),
        cmocka_unit_test(test_sync_policies_append_and_sync),
        cmocka_unit_test(test_failed_sync_is_sticky_until_reopen),
        cmocka_unit_test(test_sync_job_covers_what_came_before_it),
        cmocka_unit_test(test_sync_job_has_its_own_open_file_description),
        cmocka_unit_test(test_open_rejects_bad_options),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
