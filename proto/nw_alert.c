#include "nw_alert.h"

#include "nw_error.h"
#include "nw_topic.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* Offsets of the alert's owned strings, so init, clear and copy walk them alike. */
static const size_t s_string_offsets[] = {
    offsetof(nw_alert_t, id),    offsetof(nw_alert_t, article_id), offsetof(nw_alert_t, text),
    offsetof(nw_alert_t, title), offsetof(nw_alert_t, source),     offsetof(nw_alert_t, author),
    offsetof(nw_alert_t, place), offsetof(nw_alert_t, section),    offsetof(nw_alert_t, stream),
    offsetof(nw_alert_t, url),
};
#define S_N_STRINGS (sizeof s_string_offsets / sizeof s_string_offsets[0])

static char **s_field(nw_alert_t *alert, size_t i)
{
    return (char **)((char *)alert + s_string_offsets[i]);
}

static const char *const s_kind_names[] = {"headline", "keypoint", "paragraph"};
static const char *const s_priority_names[] = {"low", "normal", "high", "urgent"};

int nw_alert_init(nw_alert_t *alert)
{
    memset(alert, 0, sizeof *alert);
    alert->kind = NW_KIND_HEADLINE;
    alert->priority = NW_PRIORITY_NORMAL;
    alert->revision = 1;
    for (size_t i = 0; i < S_N_STRINGS; i++) {
        if ((*s_field(alert, i) = strdup("")) == NULL) {
            nw_alert_clear(alert);
            return NW_ERR_NOMEM;
        }
    }
    return NW_OK;
}

/* Frees s unless it lies in alert's strings_block (freed once, by the caller). */
static void s_free_string(const nw_alert_t *alert, char *s)
{
    uintptr_t at = (uintptr_t)s, block = (uintptr_t)alert->strings_block;
    if (alert->strings_block == NULL || at < block || at - block >= alert->strings_size)
        free(s);
}

void nw_alert_clear(nw_alert_t *alert)
{
    for (size_t i = 0; i < S_N_STRINGS; i++)
        s_free_string(alert, *s_field(alert, i));
    for (size_t i = 0; i < alert->n_topics; i++)
        s_free_string(alert, alert->topics[i].name);
    free(alert->strings_block);
    memset(alert, 0, sizeof *alert);
}

int nw_alert_set(char **field, const char *value)
{
    return nw_alert_set_len(field, value, strlen(value));
}

int nw_alert_set_len(char **field, const char *value, size_t len)
{
    char *copy = realloc(*field, len + 1);
    if (copy == NULL)
        return NW_ERR_NOMEM;
    memcpy(copy, value, len);
    copy[len] = '\0';
    *field = copy;
    return NW_OK;
}

int nw_alert_find_topic(const nw_alert_t *alert, const char *name)
{
    for (size_t i = 0; i < alert->n_topics; i++) {
        if (strcmp(alert->topics[i].name, name) == 0)
            return (int)i;
    }
    return -1;
}

int nw_alert_add_topic(nw_alert_t *alert, const char *name)
{
    if (!nw_topic_valid(name, strlen(name)))
        return NW_ERR_TOPIC;
    if (nw_alert_find_topic(alert, name) >= 0)
        return NW_OK;
    if (alert->n_topics >= NW_ALERT_TOPICS_MAX)
        return NW_ERR_TOOBIG;
    char *copy = strdup(name);
    if (copy == NULL)
        return NW_ERR_NOMEM;
    alert->topics[alert->n_topics].name = copy;
    alert->topics[alert->n_topics].seq = 0;
    alert->n_topics++;
    return NW_OK;
}

int nw_alert_copy(nw_alert_t *dst, const nw_alert_t *src)
{
    *dst = *src;
    dst->strings_block = NULL;
    dst->strings_size = 0;
    /* Null every owned pointer first so that a failure half-way can clear safely. */
    for (size_t i = 0; i < S_N_STRINGS; i++)
        *s_field(dst, i) = NULL;
    for (size_t i = 0; i < dst->n_topics; i++)
        dst->topics[i].name = NULL;

    nw_alert_t *from = (nw_alert_t *)src; /* s_field only reads through it here */
    for (size_t i = 0; i < S_N_STRINGS; i++) {
        if ((*s_field(dst, i) = strdup(*s_field(from, i))) == NULL)
            goto fail;
    }
    for (size_t i = 0; i < dst->n_topics; i++) {
        if ((dst->topics[i].name = strdup(src->topics[i].name)) == NULL)
            goto fail;
    }
    return NW_OK;
fail:
    nw_alert_clear(dst);
    return NW_ERR_NOMEM;
}

const char *nw_alert_kind_name(nw_alert_kind_t kind)
{
    return (unsigned)kind <= NW_KIND_PARAGRAPH ? s_kind_names[kind] : "unknown";
}

int nw_alert_kind_parse(const char *name, nw_alert_kind_t *kind)
{
    for (int i = 0; i <= NW_KIND_PARAGRAPH; i++) {
        if (strcmp(name, s_kind_names[i]) == 0) {
            *kind = (nw_alert_kind_t)i;
            return NW_OK;
        }
    }
    return NW_ERR_INVAL;
}

const char *nw_priority_name(nw_priority_t priority)
{
    return (unsigned)priority <= NW_PRIORITY_URGENT ? s_priority_names[priority] : "unknown";
}

int nw_priority_parse(const char *name, nw_priority_t *priority)
{
    for (int i = 0; i <= NW_PRIORITY_URGENT; i++) {
        if (strcmp(name, s_priority_names[i]) == 0 || (name[0] == '0' + i && name[1] == '\0')) {
            *priority = (nw_priority_t)i;
            return NW_OK;
        }
    }
    return NW_ERR_INVAL;
}

void nw_heartbeat_clear(nw_heartbeat_t *hb)
{
    free(hb->stream);
    free(hb->replay);
    for (size_t i = 0; i < hb->n_topics; i++)
        free(hb->topics[i].name);
    free(hb->topics);
    memset(hb, 0, sizeof *hb);
}
