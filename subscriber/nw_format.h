/*
 * nw_format: an alert as one record of the subscriber's standard output.
 *
 * Three forms, chosen by the --format value:
 *   "text"   one human line: local time, [topics], priority, text, then
 *            "-- title (source)"; ANSI colour only when asked for.
 *   "json"   one JSON object (nw_json_alert), i.e. JSON Lines.
 *   other    a template with %-placeholders and \-escapes, e.g.
 *            "%I %t %m"; see nw_format_new for the list.
 * Every record ends with a newline. Text and template output never pass a
 * terminal control sequence through: control characters in alert fields are
 * shown as visible symbols (see nw_format_visible).
 */
#ifndef NW_FORMAT_H
#define NW_FORMAT_H

#include "nw_alert.h"
#include "nw_buf.h"

#include <stdbool.h>
#include <stddef.h>

typedef struct nw_format_t nw_format_t;

/* Returns the help text listing every template placeholder and escape (lines indented
 * by four spaces, each ending in a newline), for --help. Static, never NULL. */
const char *nw_format_template_help(void);

/* Creates a formatter for spec: "text", "json" or a template holding at least one
 * placeholder. Template placeholders:
 *   %t frame topic    %T all topics (comma-separated)   %k kind      %p priority
 *   %m text           %h title       %s source   %a author   %l place   %S section
 *   %i alert id       %A article id  %n index in the article
 *   %q global seq     %Q seq on the frame topic   %r stream id
 *   %j the alert as JSON      %I published time, ISO-8601 UTC   %U published, Unix ms
 *   %u the article's link     %v revision     %o the article's original time, ISO-8601
 *   %{FMT} published time in local time through strftime(3) FMT    %% a percent sign
 * and escapes \n (newline), \t (tab), \\ (backslash). colour enables ANSI colour in the
 * text form (the caller decides: a TTY and no NO_COLOR). Returns NW_OK with *out set;
 * NW_ERR_INVAL with a message naming --format in err for a bad spec; NW_ERR_NOMEM. */
int nw_format_new(const char *spec, bool colour, nw_format_t **out, char *err, size_t errlen);

/* Frees the formatter and sets *format_p to NULL. Safe on NULL and twice. */
void nw_format_destroy(nw_format_t **format_p);

/* Returns true when the records hold the alert's JSON (json, or a template with %j): the
 * caller can then render it once (nw_json_alert) for every output that needs it. */
bool nw_format_wants_json(const nw_format_t *format);

/* Appends the record for alert, received on frame topic topic, with its newline, to out.
 * json is the alert already rendered by nw_json_alert (no newline), or NULL to render it
 * here when the record needs it. Returns NW_OK or NW_ERR_NOMEM (out then holds what it
 * held before). */
int nw_format_alert(const nw_format_t *format, const nw_alert_t *alert, const char *topic,
                    const char *json, nw_buf_t *out);

/* Appends len bytes of s to out so that a terminal shows them and acts on none: C0 controls
 * and DEL become their Unicode control pictures (ESC is U+241B, newline U+240A), C1
 * controls and bidirectional overrides become "<U+XXXX>", and bytes that are not UTF-8
 * become U+FFFD. Returns NW_OK or NW_ERR_NOMEM. */
int nw_format_visible(nw_buf_t *out, const char *s, size_t len);

#endif
