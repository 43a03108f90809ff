/*
 * nw_config: a daemon's config file, merged under its command line. See nw_config.h.
 */
#include "nw_config.h"

#include "nw_error.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

/* One option line of the file, as an argument. */
typedef struct {
    char *token;  /* "--key=value" or "--key" (owned) */
    char *origin; /* "FILE:LINE" (owned) */
    int option;   /* index into the program's option table */
} s_entry_t;

struct _nw_config_t {
    char *path;         /* the file read, NULL for none (owned) */
    s_entry_t *entries; /* the file's option lines, in file order (owned) */
    size_t n_entries;   /* entries used */
    char **argv;        /* merged vector, NULL-terminated; file tokens borrowed from entries */
    int argc;           /* entries of argv before the NULL */
};

static const char *const s_refused[] = {NW_CONFIG_OPTION, "help", "version", NULL};

static int s_option_index(const struct option *options, const char *name, size_t len)
{
    for (int i = 0; options[i].name != NULL; i++) {
        if (strlen(options[i].name) == len && strncmp(options[i].name, name, len) == 0)
            return i;
    }
    return -1;
}

/* Marks in given[] every option the command line uses, and finds --config's value.
 * Scans a copy of argv (getopt_long permutes) and leaves getopt ready for a fresh scan. */
static int s_scan_command_line(int argc, char *const argv[], const char *shortopts,
                               const struct option *options, bool *given, const char **config)
{
    char **copy = calloc((size_t)argc + 1, sizeof *copy);
    if (copy == NULL)
        return NW_ERR_NOMEM;
    memcpy(copy, argv, (size_t)argc * sizeof *copy);
    int saved_opterr = opterr, c, longindex;
    opterr = 0;
    optind = 0; /* glibc: start over */
    while ((longindex = -1, c = getopt_long(argc, copy, shortopts, options, &longindex)) != -1) {
        if (c == '?' || c == ':')
            continue; /* the program's own loop reports it */
        for (int i = 0; options[i].name != NULL; i++) {
            bool same =
                longindex >= 0 ? i == longindex : options[i].flag == NULL && options[i].val == c;
            if (!same)
                continue;
            given[i] = true;
            if (strcmp(options[i].name, NW_CONFIG_OPTION) == 0)
                *config = optarg;
        }
    }
    opterr = saved_opterr;
    optind = 0;
    free(copy);
    return NW_OK;
}

static char *s_trim(char *s)
{
    while (*s == ' ' || *s == '\t')
        s++;
    size_t n = strlen(s);
    while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r' || s[n - 1] == '\n'))
        s[--n] = '\0';
    return s;
}

/* true/false words for options without a value; returns 1, 0, or -1 for neither. */
static int s_boolean(const char *v)
{
    static const char *const yes[] = {"true", "yes", "on", "1", NULL};
    static const char *const no[] = {"false", "no", "off", "0", NULL};
    for (int i = 0; yes[i] != NULL; i++) {
        if (strcasecmp(v, yes[i]) == 0)
            return 1;
        if (strcasecmp(v, no[i]) == 0)
            return 0;
    }
    return -1;
}

static int s_add_entry(nw_config_t *cfg, const char *key, const char *value, int option,
                       unsigned line)
{
    s_entry_t *grown = realloc(cfg->entries, (cfg->n_entries + 1) * sizeof *grown);
    if (grown == NULL)
        return NW_ERR_NOMEM;
    cfg->entries = grown;
    size_t tlen = strlen(key) + (value != NULL ? strlen(value) + 1 : 0) + 3;
    size_t olen = strlen(cfg->path) + 24;
    s_entry_t e = {.token = malloc(tlen), .origin = malloc(olen), .option = option};
    if (e.token == NULL || e.origin == NULL) {
        free(e.token);
        free(e.origin);
        return NW_ERR_NOMEM;
    }
    if (value != NULL)
        snprintf(e.token, tlen, "--%s=%s", key, value);
    else
        snprintf(e.token, tlen, "--%s", key);
    snprintf(e.origin, olen, "%s:%u", cfg->path, line);
    cfg->entries[cfg->n_entries++] = e;
    return NW_OK;
}

/* Parses one line (already without its newline). */
static int s_parse_line(nw_config_t *cfg, char *text, unsigned line, const struct option *options,
                        char *err, size_t errlen)
{
    char *s = s_trim(text);
    if (*s == '\0' || *s == '#')
        return NW_OK;
    char *eq = strchr(s, '=');
    if (eq == NULL) {
        snprintf(err, errlen, "%s:%u: expected 'key = value', got '%.60s'", cfg->path, line, s);
        return NW_ERR_CONFIG;
    }
    *eq = '\0';
    char *key = s_trim(s), *value = s_trim(eq + 1);
    size_t vlen = strlen(value);
    if (vlen >= 2 && value[0] == '"' && value[vlen - 1] == '"') {
        value[vlen - 1] = '\0';
        value++;
    }
    int option = s_option_index(options, key, strlen(key));
    for (int i = 0; s_refused[i] != NULL && option >= 0; i++) {
        if (strcmp(key, s_refused[i]) == 0) {
            snprintf(err, errlen, "%s:%u: '%s' cannot be set in a config file", cfg->path, line,
                     key);
            return NW_ERR_CONFIG;
        }
    }
    if (option < 0) {
        snprintf(err, errlen, "%s:%u: unknown key '%.60s' (keys are the long option names)",
                 cfg->path, line, key);
        return NW_ERR_CONFIG;
    }
    if (options[option].has_arg == no_argument) {
        int b = s_boolean(value);
        if (b < 0) {
            snprintf(err, errlen, "%s:%u: %s: '%.60s' is not true or false", cfg->path, line, key,
                     value);
            return NW_ERR_CONFIG;
        }
        return b == 1 ? s_add_entry(cfg, key, NULL, option, line) : NW_OK;
    }
    if (*value == '\0') {
        snprintf(err, errlen, "%s:%u: %s needs a value", cfg->path, line, key);
        return NW_ERR_CONFIG;
    }
    return s_add_entry(cfg, key, value, option, line);
}

static int s_read_file(nw_config_t *cfg, const struct option *options, char *err, size_t errlen)
{
    FILE *f = fopen(cfg->path, "r");
    if (f == NULL) {
        int e = errno;
        snprintf(err, errlen, "--config %s: %s", cfg->path, strerror(e));
        return e == ENOENT ? NW_ERR_NOTFOUND : NW_ERR_IO;
    }
    struct stat st;
    if (fstat(fileno(f), &st) == 0 && S_ISDIR(st.st_mode)) {
        fclose(f);
        snprintf(err, errlen, "--config %s: is a folder, not a file", cfg->path);
        return NW_ERR_IO;
    }
    char *text = NULL;
    size_t cap = 0;
    unsigned line = 0;
    int rc = NW_OK;
    ssize_t len;
    while (rc == NW_OK && (len = getline(&text, &cap, f)) != -1) {
        line++;
        if ((size_t)len != strlen(text)) {
            snprintf(err, errlen, "%s:%u: a NUL byte in the line", cfg->path, line);
            rc = NW_ERR_CONFIG;
            break;
        }
        rc = s_parse_line(cfg, text, line, options, err, errlen);
    }
    if (rc == NW_OK && ferror(f)) {
        snprintf(err, errlen, "%s: read error after line %u", cfg->path, line);
        rc = NW_ERR_IO;
    }
    free(text);
    fclose(f);
    return rc;
}

/* argv[0], the file's entries not overridden by the command line, then the command line. */
static int s_merge(nw_config_t *cfg, int argc, char *const argv[], const bool *given)
{
    cfg->argv = calloc((size_t)argc + cfg->n_entries + 1, sizeof *cfg->argv);
    if (cfg->argv == NULL)
        return NW_ERR_NOMEM;
    int n = 0;
    cfg->argv[n++] = argc > 0 ? argv[0] : (char *)"";
    for (size_t i = 0; i < cfg->n_entries; i++) {
        if (!given[cfg->entries[i].option])
            cfg->argv[n++] = cfg->entries[i].token;
    }
    for (int i = 1; i < argc; i++)
        cfg->argv[n++] = argv[i];
    cfg->argv[n] = NULL;
    cfg->argc = n;
    return NW_OK;
}

int nw_config_load(int argc, char *const argv[], const char *default_path, const char *shortopts,
                   const struct option *options, nw_config_t **out, char *err, size_t errlen)
{
    size_t n_options = 0;
    while (options[n_options].name != NULL)
        n_options++;
    nw_config_t *cfg = calloc(1, sizeof *cfg);
    bool *given = calloc(n_options + 1, sizeof *given);
    const char *path = NULL;
    int rc = NW_ERR_NOMEM;
    if (cfg == NULL || given == NULL)
        goto fail;
    if ((rc = s_scan_command_line(argc, argv, shortopts, options, given, &path)) != NW_OK)
        goto fail;
    if (path != NULL && strcmp(path, NW_CONFIG_NONE) == 0)
        path = NULL;
    else if (path == NULL && default_path != NULL && access(default_path, F_OK) == 0)
        path = default_path;
    if (path != NULL) {
        rc = NW_ERR_NOMEM;
        if ((cfg->path = strdup(path)) == NULL)
            goto fail;
        if ((rc = s_read_file(cfg, options, err, errlen)) != NW_OK)
            goto fail;
    }
    if ((rc = s_merge(cfg, argc, argv, given)) != NW_OK)
        goto fail;
    free(given);
    *out = cfg;
    return NW_OK;
fail:
    if (rc == NW_ERR_NOMEM)
        snprintf(err, errlen, "--config: out of memory");
    free(given);
    nw_config_destroy(&cfg);
    return rc;
}

int nw_config_argc(const nw_config_t *cfg)
{
    return cfg->argc;
}

char **nw_config_argv(nw_config_t *cfg)
{
    return cfg->argv;
}

const char *nw_config_origin(const nw_config_t *cfg, int index)
{
    if (cfg == NULL || index < 0 || index >= cfg->argc)
        return NULL;
    /* By pointer, not position: getopt_long permutes the vector. */
    for (size_t i = 0; i < cfg->n_entries; i++) {
        if (cfg->entries[i].token == cfg->argv[index])
            return cfg->entries[i].origin;
    }
    return NULL;
}

const char *nw_config_path(const nw_config_t *cfg)
{
    return cfg->path;
}

void nw_config_destroy(nw_config_t **cfg_p)
{
    if (cfg_p == NULL || *cfg_p == NULL)
        return;
    nw_config_t *cfg = *cfg_p;
    for (size_t i = 0; i < cfg->n_entries; i++) {
        free(cfg->entries[i].token);
        free(cfg->entries[i].origin);
    }
    free(cfg->entries);
    free(cfg->argv);
    free(cfg->path);
    free(cfg);
    *cfg_p = NULL;
}
