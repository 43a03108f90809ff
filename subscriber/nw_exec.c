#include "nw_exec.h"

#include "nw_buf.h"
#include "nw_error.h"
#include "nw_json.h"
#include "nw_log.h"
#include "nw_ratelimit.h"

#include <inttypes.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

extern char **environ;

/* One alert waiting for, or handed to, a child. */
typedef struct {
    char *json; /* the alert as a JSON line, owned */
    size_t len; /* bytes of json */
    char **env; /* environment for the child, NULL-terminated, owned */
    char *id;   /* alert id for log lines, owned */
} s_item_t;

/* A child and its handles. The job is freed in the close callback of the last of its
 * three handles (proc, in, timer), never earlier: libuv still holds them until then. */
typedef struct s_job_t {
    uv_process_t proc;      /* the child */
    uv_pipe_t in;           /* its standard input */
    uv_timer_t timer;       /* --exec-timeout: SIGTERM, then SIGKILL */
    uv_write_t write_req;   /* the JSON going into in */
    s_item_t item;          /* what it runs for */
    struct nw_exec_t *exec; /* owner */
    int open_handles;       /* handles not yet closed; freed at 0 */
    bool timed_out;         /* the timeout fired (counted and logged there) */
    struct s_job_t *next;   /* running list */
} s_job_t;

struct nw_exec_t {
    uv_loop_t *loop;              /* loop the children are watched on */
    char **argv;                  /* the command, split */
    unsigned max_running;         /* most children at once */
    uint64_t timeout_ms;          /* how long a child may run, 0 = no limit */
    uint64_t kill_grace_ms;       /* SIGTERM to SIGKILL after the timeout */
    s_job_t *running;             /* children not yet exited */
    size_t n_running;             /* entries of running */
    size_t n_jobs;                /* jobs allocated, running or closing their handles */
    s_item_t *queue;              /* ring of waiting alerts, max_queue entries */
    size_t max_queue;             /* capacity of queue */
    size_t head, n_queued;        /* ring position of the oldest, and count */
    nw_exec_stats_t stats;        /* counters */
    nw_ratelimit_t fail_rl;       /* at most one failure line per second */
    uv_timer_t grace;             /* shutdown: how long children may still run */
    bool closing;                 /* nw_exec_close was called */
    nw_exec_closed_fn *on_closed; /* ... and what to call at the end */
    void *closed_arg;
};

/* ---- word splitting ---- */

typedef struct {
    nw_buf_t word; /* the word being built */
    bool in_word;  /* a word has started (even an empty '' one) */
    char **argv;   /* words so far */
    size_t argc;   /* used entries of argv */
} s_split_t;

static int s_push_word(s_split_t *sp)
{
    char **argv = realloc(sp->argv, (sp->argc + 2) * sizeof *argv);
    if (argv == NULL)
        return NW_ERR_NOMEM;
    sp->argv = argv;
    if ((argv[sp->argc] = nw_buf_steal(&sp->word)) == NULL)
        return NW_ERR_NOMEM;
    argv[++sp->argc] = NULL;
    sp->in_word = false;
    return NW_OK;
}

/* Consumes a quoted part starting at *p (the opening quote); returns NW_OK or
 * NW_ERR_INVAL for a missing closing quote. */
static int s_quoted(s_split_t *sp, const char **p)
{
    char quote = **p;
    const char *s = *p + 1;
    int rc = NW_OK;
    for (; rc == NW_OK && *s != '\0' && *s != quote; s++) {
        if (quote == '"' && *s == '\\' && s[1] != '\0' && strchr("\"\\$`", s[1]) != NULL)
            s++;
        rc = nw_buf_append(&sp->word, s, 1);
    }
    if (rc != NW_OK)
        return rc;
    if (*s != quote)
        return NW_ERR_INVAL;
    *p = s;
    sp->in_word = true;
    return NW_OK;
}

void nw_exec_argv_free(char **argv)
{
    for (size_t i = 0; argv != NULL && argv[i] != NULL; i++)
        free(argv[i]);
    free(argv);
}

int nw_exec_split(const char *cmd, char ***argv_out, char *err, size_t errlen)
{
    s_split_t sp = {0};
    int rc = NW_OK;
    for (const char *p = cmd; rc == NW_OK && *p != '\0'; p++) {
        if (*p == ' ' || *p == '\t' || *p == '\n') {
            if (sp.in_word)
                rc = s_push_word(&sp);
        } else if (*p == '\'' || *p == '"') {
            if ((rc = s_quoted(&sp, &p)) == NW_ERR_INVAL)
                snprintf(err, errlen, "--exec: unterminated %c quote in '%s'", *p, cmd);
        } else if (*p == '\\') {
            if (p[1] == '\0') {
                snprintf(err, errlen, "--exec: '%s' ends in a lone backslash", cmd);
                rc = NW_ERR_INVAL;
            } else {
                rc = nw_buf_append(&sp.word, ++p, 1);
                sp.in_word = true;
            }
        } else {
            rc = nw_buf_append(&sp.word, p, 1);
            sp.in_word = true;
        }
    }
    if (rc == NW_OK && sp.in_word)
        rc = s_push_word(&sp);
    if (rc == NW_OK && sp.argc == 0) {
        snprintf(err, errlen, "--exec: the command is empty");
        rc = NW_ERR_INVAL;
    }
    nw_buf_free(&sp.word);
    if (rc != NW_OK) {
        if (rc == NW_ERR_NOMEM)
            snprintf(err, errlen, "--exec: out of memory");
        nw_exec_argv_free(sp.argv);
        return rc;
    }
    *argv_out = sp.argv;
    return NW_OK;
}

/* ---- the runner ---- */

int nw_exec_new(uv_loop_t *loop, const char *cmd, unsigned max_running, size_t max_queue,
                nw_exec_t **out, char *err, size_t errlen)
{
    nw_exec_t *exec = calloc(1, sizeof *exec);
    if (exec == NULL)
        goto nomem;
    int rc = nw_exec_split(cmd, &exec->argv, err, errlen);
    if (rc != NW_OK) {
        free(exec);
        return rc;
    }
    exec->queue = calloc(max_queue, sizeof *exec->queue);
    if (exec->queue == NULL)
        goto nomem;
    exec->loop = loop;
    exec->max_running = max_running;
    exec->max_queue = max_queue;
    exec->fail_rl.period_ms = 1000;
    if (uv_timer_init(loop, &exec->grace) != 0) {
        snprintf(err, errlen, "--exec: cannot create a timer");
        nw_exec_argv_free(exec->argv);
        free(exec->queue);
        free(exec);
        return NW_ERR_UV;
    }
    exec->grace.data = exec;
    *out = exec;
    return NW_OK;
nomem:
    if (exec != NULL) {
        nw_exec_argv_free(exec->argv);
        free(exec);
    }
    snprintf(err, errlen, "--exec: out of memory");
    return NW_ERR_NOMEM;
}

static void s_item_free(s_item_t *item)
{
    free(item->json);
    nw_exec_argv_free(item->env);
    free(item->id);
    memset(item, 0, sizeof *item);
}

/* Appends "NAME=value" to env at *n. Control characters of value (newlines, tabs, ESC,
 * DEL) become spaces: the value comes from the wire, and a hook that reads `env` line by
 * line must not see a forged "\nNW_SEQ=999" as a variable of its own. */
static int s_env_add(char **env, size_t *n, const char *name, const char *value)
{
    nw_buf_t b = {0};
    if (nw_buf_printf(&b, "%s=%s", name, value) != NW_OK)
        return NW_ERR_NOMEM;
    for (size_t i = strlen(name) + 1; i < b.len; i++) {
        if ((unsigned char)b.data[i] < 0x20 || b.data[i] == 0x7f)
            b.data[i] = ' ';
    }
    env[(*n)++] = nw_buf_steal(&b);
    return NW_OK;
}

static int s_env_u64(char **env, size_t *n, const char *name, uint64_t value)
{
    char text[32];
    snprintf(text, sizeof text, "%" PRIu64, value);
    return s_env_add(env, n, name, text);
}

static int s_env_alert(char **env, size_t *n, const nw_alert_t *a, const char *topic)
{
    nw_buf_t topics = {0};
    int rc = NW_OK;
    for (size_t i = 0; rc == NW_OK && i < a->n_topics; i++)
        rc = nw_buf_printf(&topics, "%s%s", i ? "," : "", a->topics[i].name);
    int ti = nw_alert_find_topic(a, topic);
    char iso[40] = "";
    time_t t = (time_t)(a->published_ms / 1000);
    struct tm tm;
    if (a->published_ms >= 0 && gmtime_r(&t, &tm) != NULL)
        strftime(iso, sizeof iso, "%Y-%m-%dT%H:%M:%SZ", &tm);
    const struct {
        const char *name, *value;
    } strs[] = {
        {"NW_TOPIC", topic},
        {"NW_TOPICS", topics.data ? topics.data : ""},
        {"NW_ID", a->id},
        {"NW_ARTICLE", a->article_id},
        {"NW_KIND", nw_alert_kind_name(a->kind)},
        {"NW_PRIORITY", nw_priority_name(a->priority)},
        {"NW_TITLE", a->title},
        {"NW_SOURCE", a->source},
        {"NW_SECTION", a->section},
        {"NW_STREAM", a->stream},
        {"NW_PUBLISHED", iso},
        {"NW_URL", a->url ? a->url : ""},
    };
    for (size_t i = 0; rc == NW_OK && i < sizeof strs / sizeof strs[0]; i++)
        rc = s_env_add(env, n, strs[i].name, strs[i].value);
    if (rc == NW_OK)
        rc = s_env_u64(env, n, "NW_INDEX", a->index);
    if (rc == NW_OK)
        rc = s_env_u64(env, n, "NW_SEQ", a->seq);
    if (rc == NW_OK)
        rc = s_env_u64(env, n, "NW_TOPIC_SEQ", ti >= 0 ? a->topics[ti].seq : 0);
    if (rc == NW_OK)
        rc = s_env_u64(env, n, "NW_REVISION", a->revision > 1 ? a->revision : 1);
    char ms[32];
    snprintf(ms, sizeof ms, "%" PRId64, a->published_ms);
    if (rc == NW_OK)
        rc = s_env_add(env, n, "NW_PUBLISHED_MS", ms);
    nw_buf_free(&topics);
    return rc;
}

#define S_ENV_OWN 17 /* variables s_env_alert sets */

/* The parent's environment without its NW_ variables, plus the alert's. */
static char **s_env_build(const nw_alert_t *alert, const char *topic)
{
    size_t parent = 0;
    while (environ != NULL && environ[parent] != NULL)
        parent++;
    char **env = calloc(parent + S_ENV_OWN + 1, sizeof *env);
    if (env == NULL)
        return NULL;
    size_t n = 0;
    for (size_t i = 0; i < parent; i++) {
        if (strncmp(environ[i], "NW_", 3) == 0)
            continue;
        if ((env[n] = strdup(environ[i])) == NULL)
            goto fail;
        n++;
    }
    if (s_env_alert(env, &n, alert, topic) != NW_OK)
        goto fail;
    return env;
fail:
    nw_exec_argv_free(env);
    return NULL;
}

static int s_item_make(s_item_t *item, const nw_alert_t *alert, const char *topic,
                       const char *rendered)
{
    nw_buf_t json = {0};
    memset(item, 0, sizeof *item);
    int rc =
        rendered != NULL ? nw_buf_append_str(&json, rendered) : nw_json_alert(&json, alert, topic);
    if (rc != NW_OK || nw_buf_append(&json, "\n", 1) != NW_OK)
        goto fail;
    item->len = json.len;
    item->json = nw_buf_steal(&json);
    item->env = s_env_build(alert, topic);
    item->id = strdup(alert->id);
    if (item->json == NULL || item->env == NULL || item->id == NULL)
        goto fail;
    return NW_OK;
fail:
    nw_buf_free(&json);
    s_item_free(item);
    return NW_ERR_NOMEM;
}

/* Counts a failure and logs msg, at most once a second. */
static void s_fail(nw_exec_t *exec, const char *msg)
{
    uint64_t held = 0;
    exec->stats.failed++;
    if (!nw_ratelimit_hit(&exec->fail_rl, (int64_t)uv_now(exec->loop), &held))
        return;
    if (held > 0)
        nw_log(NW_LOG_WARN, "--exec: %s (and %" PRIu64 " more failures)", msg, held);
    else
        nw_log(NW_LOG_WARN, "--exec: %s", msg);
}

static void s_maybe_finish(nw_exec_t *exec);
static void s_pump(nw_exec_t *exec);

static void s_job_closed(uv_handle_t *handle)
{
    s_job_t *job = handle->data;
    if (--job->open_handles > 0)
        return;
    nw_exec_t *exec = job->exec;
    s_item_free(&job->item);
    free(job);
    exec->n_jobs--;
    s_maybe_finish(exec);
}

static void s_unlink(nw_exec_t *exec, s_job_t *job)
{
    for (s_job_t **pp = &exec->running; *pp != NULL; pp = &(*pp)->next) {
        if (*pp == job) {
            *pp = job->next;
            exec->n_running--;
            return;
        }
    }
}

static void s_on_exit(uv_process_t *proc, int64_t status, int term_signal)
{
    s_job_t *job = proc->data;
    nw_exec_t *exec = job->exec;
    char msg[512];
    if (job->timed_out) {
        /* Already counted and logged when the timeout fired. */
    } else if (term_signal != 0) {
        snprintf(msg, sizeof msg, "'%s' was killed by signal %d (alert %s)", exec->argv[0],
                 term_signal, job->item.id);
        s_fail(exec, msg);
    } else if (status != 0) {
        snprintf(msg, sizeof msg, "'%s' exited with status %d (alert %s)", exec->argv[0],
                 (int)status, job->item.id);
        s_fail(exec, msg);
    }
    nw_log(NW_LOG_DEBUG, "--exec: alert %s done (status %d, signal %d)", job->item.id, (int)status,
           term_signal);
    s_unlink(exec, job);
    uv_close((uv_handle_t *)&job->proc, s_job_closed);
    uv_close((uv_handle_t *)&job->timer, s_job_closed); /* also stops it */
    s_pump(exec);
}

static void s_on_written(uv_write_t *req, int status)
{
    s_job_t *job = req->data;
    /* EPIPE: the command did not read its input; that is its business. */
    if (status != 0 && status != UV_EPIPE && status != UV_ECANCELED)
        nw_log(NW_LOG_DEBUG, "--exec: writing alert %s to the command: %s", job->item.id,
               uv_strerror(status));
    uv_close((uv_handle_t *)&job->in, s_job_closed);
}

/* Grace after SIGTERM is over and the child is still there (s_on_exit closes the timer). */
static void s_on_kill(uv_timer_t *timer)
{
    s_job_t *job = timer->data;
    nw_log(NW_LOG_DEBUG, "--exec: alert %s: command ignored SIGTERM, sending SIGKILL",
           job->item.id);
    uv_process_kill(&job->proc, SIGKILL);
}

/* The child ran past the timeout: asks it to stop, and arms the SIGKILL. */
static void s_on_timeout(uv_timer_t *timer)
{
    s_job_t *job = timer->data;
    nw_exec_t *exec = job->exec;
    char msg[512];
    job->timed_out = true;
    exec->stats.timed_out++;
    snprintf(msg, sizeof msg, "'%s' still running after %" PRIu64 " ms, killing it (alert %s)",
             exec->argv[0], exec->timeout_ms, job->item.id);
    s_fail(exec, msg);
    /* ESRCH: it exited and s_on_exit is on its way; nothing to do. */
    uv_process_kill(&job->proc, SIGTERM);
    uv_timer_start(&job->timer, s_on_kill, exec->kill_grace_ms, 0);
}

static int s_spawn(nw_exec_t *exec, s_job_t *job)
{
    uv_stdio_container_t stdio[3];
    stdio[0].flags = UV_CREATE_PIPE | UV_READABLE_PIPE;
    stdio[0].data.stream = (uv_stream_t *)&job->in;
    stdio[1].flags = UV_INHERIT_FD; /* keep our stdout for alerts */
    stdio[1].data.fd = 2;
    stdio[2].flags = UV_INHERIT_FD;
    stdio[2].data.fd = 2;
    uv_process_options_t opts = {
        .exit_cb = s_on_exit,
        .file = exec->argv[0],
        .args = exec->argv,
        .env = job->item.env,
        .stdio_count = 3,
        .stdio = stdio,
    };
    int rc = uv_spawn(exec->loop, &job->proc, &opts);
    if (rc != 0)
        return rc;
    uv_buf_t buf = uv_buf_init(job->item.json, (unsigned)job->item.len);
    job->write_req.data = job;
    rc = uv_write(&job->write_req, (uv_stream_t *)&job->in, &buf, 1, s_on_written);
    if (rc != 0)
        uv_close((uv_handle_t *)&job->in, s_job_closed); /* the child sees EOF at once */
    return 0;
}

/* Starts a child for item (taking it over). */
static void s_start(nw_exec_t *exec, s_item_t *item)
{
    s_job_t *job = calloc(1, sizeof *job);
    if (job == NULL) {
        s_fail(exec, "out of memory starting a command");
        s_item_free(item);
        return;
    }
    exec->n_jobs++;
    job->item = *item;
    job->exec = exec;
    job->proc.data = job;
    job->in.data = job;
    job->timer.data = job;
    job->open_handles = 3;
    uv_pipe_init(exec->loop, &job->in, 0);
    uv_timer_init(exec->loop, &job->timer); /* cannot fail */
    int rc = s_spawn(exec, job);
    if (rc != 0) {
        /* A failed uv_spawn still leaves the handle to close. */
        char msg[512];
        snprintf(msg, sizeof msg, "cannot run '%s': %s", exec->argv[0], uv_strerror(rc));
        s_fail(exec, msg);
        uv_close((uv_handle_t *)&job->proc, s_job_closed);
        uv_close((uv_handle_t *)&job->in, s_job_closed);
        uv_close((uv_handle_t *)&job->timer, s_job_closed);
        return;
    }
    if (exec->timeout_ms > 0)
        uv_timer_start(&job->timer, s_on_timeout, exec->timeout_ms, 0);
    exec->stats.started++;
    job->next = exec->running;
    exec->running = job;
    exec->n_running++;
}

/* Starts queued alerts while there is room. */
static void s_pump(nw_exec_t *exec)
{
    while (!exec->closing && exec->n_queued > 0 && exec->n_running < exec->max_running) {
        s_item_t item = exec->queue[exec->head];
        memset(&exec->queue[exec->head], 0, sizeof item);
        exec->head = (exec->head + 1) % exec->max_queue;
        exec->n_queued--;
        s_start(exec, &item);
    }
}

int nw_exec_run(nw_exec_t *exec, const nw_alert_t *alert, const char *topic, const char *json)
{
    if (exec->closing)
        return NW_ERR_STOPPED;
    if (exec->n_running >= exec->max_running && exec->n_queued >= exec->max_queue) {
        exec->stats.dropped++;
        return NW_ERR_TOOBIG;
    }
    s_item_t item;
    if (s_item_make(&item, alert, topic, json) != NW_OK)
        return NW_ERR_NOMEM;
    if (exec->n_running < exec->max_running) {
        s_start(exec, &item);
        return NW_OK;
    }
    exec->queue[(exec->head + exec->n_queued) % exec->max_queue] = item;
    exec->n_queued++;
    return NW_OK;
}

void nw_exec_set_timeout(nw_exec_t *exec, uint64_t timeout_ms, uint64_t kill_grace_ms)
{
    exec->timeout_ms = timeout_ms;
    exec->kill_grace_ms = kill_grace_ms;
}

nw_exec_stats_t nw_exec_stats(const nw_exec_t *exec)
{
    return exec->stats;
}

size_t nw_exec_running(const nw_exec_t *exec)
{
    return exec->n_running;
}

static void s_grace_closed(uv_handle_t *handle)
{
    nw_exec_t *exec = handle->data;
    nw_exec_closed_fn *on_closed = exec->on_closed;
    void *arg = exec->closed_arg;
    nw_exec_argv_free(exec->argv);
    free(exec->queue);
    free(exec);
    if (on_closed != NULL)
        on_closed(arg);
}

/* When closing and every job's handles are gone, closes the timer, which frees the runner. */
static void s_maybe_finish(nw_exec_t *exec)
{
    if (!exec->closing || exec->n_jobs > 0 || uv_is_closing((uv_handle_t *)&exec->grace))
        return;
    uv_close((uv_handle_t *)&exec->grace, s_grace_closed);
}

static void s_on_grace(uv_timer_t *timer)
{
    nw_exec_t *exec = timer->data;
    for (s_job_t *job = exec->running; job != NULL; job = job->next)
        uv_process_kill(&job->proc, SIGKILL);
}

void nw_exec_close(nw_exec_t **exec_p, uint64_t grace_ms, nw_exec_closed_fn *on_closed, void *arg)
{
    if (exec_p == NULL || *exec_p == NULL)
        return;
    nw_exec_t *exec = *exec_p;
    *exec_p = NULL;
    exec->closing = true;
    exec->on_closed = on_closed;
    exec->closed_arg = arg;
    if (exec->n_queued > 0)
        nw_log(NW_LOG_WARN, "--exec: %zu queued alerts not run at shutdown", exec->n_queued);
    while (exec->n_queued > 0) {
        s_item_free(&exec->queue[exec->head]);
        exec->head = (exec->head + 1) % exec->max_queue;
        exec->n_queued--;
        exec->stats.dropped++;
    }
    if (exec->n_running > 0)
        uv_timer_start(&exec->grace, s_on_grace, grace_ms, 0);
    s_maybe_finish(exec);
}
