#include "nw_matcher.h"

#include "nw_error.h"

#include <stdlib.h>
#include <string.h>

/* The alphabet: one separator, 26 letters, 10 digits, one "other letter". */
enum {
    S_SEP = 0,
    S_DIGIT0 = 27,
    S_OTHER = 37,
    S_NSYM = 38,
    S_UTF8 = 0xFF, /* byte class of a byte >= 0x80: decode the UTF-8 sequence */
};

typedef struct {
    uint32_t value; /* what to report */
    uint32_t next;  /* next value of the same node, 0-terminated (index + 1) */
} s_value_t;

/*
 * The compiled scan table. Symbols that act alike in every state share one class
 * (typically 30-35 of the 38), and a state is the offset of its row in `table`: rows are
 * `stride` entries apart, in breadth-first order (the states near the root, where a
 * scan spends most of its time, are packed together), and an entry is directly the
 * offset of the next state, so one step is one add and one load. A state with outputs
 * has its row shifted by one entry: its offset is odd, which is the "report" flag, and
 * the entry just before its row (free, as stride > classes) holds where its outputs
 * start in `outs` (a count, then the values).
 */
struct nw_matcher_t {
    uint32_t *delta;               /* building: [node * S_NSYM + sym] trie edges, then the DFA */
    uint32_t *first;               /* building: per node, first own value (index + 1), 0 = none */
    size_t n_nodes;                /* nodes in use; node 0 is the root */
    size_t cap_nodes;              /* nodes allocated */
    s_value_t *values;             /* building: values attached to trie nodes, linked per node */
    size_t n_values;               /* values added */
    size_t cap_values;             /* values allocated */
    uint32_t *table;               /* compiled: the scan table (see above) */
    uint32_t *outs;                /* compiled: per state with outputs: count, then values */
    uint32_t start;                /* compiled: the state after the separator before a text */
    unsigned char sym[128];        /* ASCII byte -> symbol */
    unsigned char cls[256];        /* compiled: byte -> class, S_UTF8 for non-ASCII */
    unsigned char sym_cls[S_NSYM]; /* compiled: symbol -> class */
    bool compiled;                 /* no more adds; scanning allowed */
};

static void s_init_alphabet(unsigned char *sym)
{
    memset(sym, S_SEP, 128);
    for (int c = 'a'; c <= 'z'; c++) {
        sym[c] = (unsigned char)(1 + c - 'a');
        sym[c - 'a' + 'A'] = (unsigned char)(1 + c - 'a');
    }
    for (int c = '0'; c <= '9'; c++)
        sym[c] = (unsigned char)(S_DIGIT0 + c - '0');
}

int nw_matcher_new(nw_matcher_t **out)
{
    nw_matcher_t *m = calloc(1, sizeof(*m));
    if (!m)
        return NW_ERR_NOMEM;
    m->cap_nodes = 256;
    m->delta = calloc(m->cap_nodes * S_NSYM, sizeof(uint32_t));
    m->first = calloc(m->cap_nodes, sizeof(uint32_t));
    if (!m->delta || !m->first) {
        nw_matcher_destroy(&m);
        return NW_ERR_NOMEM;
    }
    m->n_nodes = 1;
    s_init_alphabet(m->sym);
    *out = m;
    return NW_OK;
}

static int s_grow_nodes(nw_matcher_t *m)
{
    size_t cap = m->cap_nodes * 2;
    uint32_t *delta = realloc(m->delta, cap * S_NSYM * sizeof(uint32_t));
    if (!delta)
        return NW_ERR_NOMEM;
    m->delta = delta;
    memset(delta + m->cap_nodes * S_NSYM, 0, (cap - m->cap_nodes) * S_NSYM * sizeof(uint32_t));
    uint32_t *first = realloc(m->first, cap * sizeof(uint32_t));
    if (!first)
        return NW_ERR_NOMEM;
    m->first = first;
    memset(first + m->cap_nodes, 0, (cap - m->cap_nodes) * sizeof(uint32_t));
    m->cap_nodes = cap;
    return NW_OK;
}

/* Follows or creates the edge sym from node; returns the child or 0 when out of memory. */
static uint32_t s_child(nw_matcher_t *m, uint32_t node, unsigned sym)
{
    uint32_t child = m->delta[(size_t)node * S_NSYM + sym];
    if (child)
        return child;
    if (m->n_nodes == m->cap_nodes && s_grow_nodes(m) != NW_OK)
        return 0;
    child = (uint32_t)m->n_nodes++;
    m->delta[(size_t)node * S_NSYM + sym] = child;
    return child;
}

static int s_attach(nw_matcher_t *m, uint32_t node, uint32_t value)
{
    if (m->n_values == m->cap_values) {
        size_t cap = m->cap_values ? m->cap_values * 2 : 256;
        s_value_t *values = realloc(m->values, cap * sizeof(*values));
        if (!values)
            return NW_ERR_NOMEM;
        m->values = values;
        m->cap_values = cap;
    }
    m->values[m->n_values] = (s_value_t){.value = value, .next = m->first[node]};
    m->first[node] = (uint32_t)++m->n_values;
    return NW_OK;
}

int nw_matcher_add(nw_matcher_t *m, const char *pattern, size_t len, bool prefix, uint32_t value)
{
    if (m->compiled)
        return NW_ERR_INVAL;
    for (size_t i = 0; i < len; i++) {
        if ((unsigned char)pattern[i] >= 0x80)
            return NW_ERR_INVAL;
    }
    uint32_t node = 0;
    bool in_word = false, any = false;
    for (size_t i = 0; i < len; i++) {
        unsigned sym = m->sym[(unsigned char)pattern[i]];
        if (sym == S_SEP) {
            in_word = false;
            continue;
        }
        /* A separator before every word, including the first: the left word boundary. */
        if (!in_word && (node = s_child(m, node, S_SEP)) == 0)
            return NW_ERR_NOMEM;
        if ((node = s_child(m, node, sym)) == 0)
            return NW_ERR_NOMEM;
        in_word = any = true;
    }
    if (!any)
        return NW_ERR_INVAL;
    if (!prefix && (node = s_child(m, node, S_SEP)) == 0)
        return NW_ERR_NOMEM;
    return s_attach(m, node, value);
}

/* Breadth-first order of the trie, computing failure links and the full DFA in place.
 * Returns the number of nodes in order (all but the root); in_sep marks nodes reached
 * by a separator. */
static size_t s_build_dfa(nw_matcher_t *m, uint32_t *order, uint32_t *fail, unsigned char *in_sep)
{
    size_t head = 0, tail = 0;
    uint32_t *d = m->delta;
    for (unsigned c = 0; c < S_NSYM; c++) {
        uint32_t v = d[c];
        if (v) {
            fail[v] = 0;
            in_sep[v] = c == S_SEP;
            order[tail++] = v;
        }
    }
    while (head < tail) {
        uint32_t u = order[head++];
        for (unsigned c = 0; c < S_NSYM; c++) {
            uint32_t v = d[(size_t)u * S_NSYM + c];
            uint32_t via = d[(size_t)fail[u] * S_NSYM + c];
            if (v) {
                fail[v] = via;
                in_sep[v] = c == S_SEP;
                order[tail++] = v;
            } else {
                d[(size_t)u * S_NSYM + c] = via;
            }
        }
    }
    return tail;
}

/* The compile-time view of the automaton, before it is packed into the scan table. */
typedef struct {
    uint32_t *order;       /* breadth-first order of the nodes, root excluded */
    size_t n_order;        /* nodes in order */
    uint32_t *fail;        /* per node: failure link */
    unsigned char *in_sep; /* per node: reached by a separator */
    uint32_t *out_at;      /* per node: start of its outputs in outs */
    uint32_t *out_len;     /* per node: number of outputs (own and inherited) */
    uint32_t *outs;        /* the output values of every node, contiguous */
    size_t n_outs;         /* values in outs */
} s_build_t;

/* Gathers each node's own values and those of its failure chain into one array
 * (parents come before children in order, so a failure target is always done). */
static int s_build_outputs(const nw_matcher_t *m, s_build_t *b)
{
    size_t total = 0, cap = m->n_values + 16;
    b->out_at = calloc(m->n_nodes, sizeof(uint32_t));
    b->out_len = calloc(m->n_nodes, sizeof(uint32_t));
    b->outs = malloc(cap * sizeof(uint32_t));
    if (!b->out_at || !b->out_len || !b->outs)
        return NW_ERR_NOMEM;
    for (size_t k = 0; k < b->n_order; k++) {
        uint32_t u = b->order[k], f = b->fail[u];
        size_t need = total + m->n_values + b->out_len[f];
        if (need > cap) {
            cap = need * 2;
            uint32_t *outs = realloc(b->outs, cap * sizeof(uint32_t));
            if (!outs)
                return NW_ERR_NOMEM;
            b->outs = outs;
        }
        b->out_at[u] = (uint32_t)total;
        for (uint32_t i = m->first[u]; i; i = m->values[i - 1].next)
            b->outs[total++] = m->values[i - 1].value;
        memmove(b->outs + total, b->outs + b->out_at[f], b->out_len[f] * sizeof(uint32_t));
        total += b->out_len[f];
        b->out_len[u] = (uint32_t)(total - b->out_at[u]);
    }
    b->n_outs = total;
    return NW_OK;
}

/* The complete automaton: the DFA, plus a loop on the separator for a node reached by a
 * separator, so a run of them counts as one (patterns never hold two separators in a
 * row, so no edge is lost). */
static uint32_t s_next(const nw_matcher_t *m, const s_build_t *b, uint32_t u, unsigned sym)
{
    if (sym == S_SEP && b->in_sep[u])
        return u;
    return m->delta[(size_t)u * S_NSYM + sym];
}

/* Groups the symbols into classes that lead to the same node from every node; fills
 * m->sym_cls and rep (one symbol per class) and returns the number of classes. */
static unsigned s_build_classes(nw_matcher_t *m, const s_build_t *b, unsigned char *rep)
{
    unsigned n = 0;
    for (unsigned a = 0; a < S_NSYM; a++) {
        unsigned c = 0;
        for (; c < n; c++) {
            size_t u = 0;
            while (u < m->n_nodes &&
                   s_next(m, b, (uint32_t)u, a) == s_next(m, b, (uint32_t)u, rep[c]))
                u++;
            if (u == m->n_nodes)
                break;
        }
        if (c == n)
            rep[n++] = (unsigned char)a;
        m->sym_cls[a] = (unsigned char)c;
    }
    for (unsigned byte = 0; byte < 256; byte++)
        m->cls[byte] = byte < 128 ? m->sym_cls[m->sym[byte]] : S_UTF8;
    return n;
}

/* Packs the automaton into m->table and m->outs (layout: see struct nw_matcher_t).
 * A state with outputs reached by a separator loops on further separators; to report it
 * once, without a test in the scan loop, that loop goes to a twin row without the flag
 * (same transitions, its separators looping on itself). Twins follow the other rows. */
static int s_build_table(nw_matcher_t *m, const s_build_t *b)
{
    unsigned char rep[S_NSYM];
    size_t n_cls = s_build_classes(m, b, rep), sep = m->sym_cls[S_SEP];
    size_t stride = (n_cls + 2) & ~(size_t)1; /* > n_cls, and even */
    size_t n_rows = m->n_nodes;
    for (size_t k = 0; k < b->n_order; k++)
        n_rows += b->out_len[b->order[k]] && b->in_sep[b->order[k]];
    if (n_rows > (UINT32_MAX - 1) / stride)
        return NW_ERR_NOMEM;                              /* offsets would not fit 32 bits */
    uint32_t *at = malloc(m->n_nodes * sizeof(uint32_t)); /* node -> its state (offset) */
    m->table = calloc(n_rows * stride, sizeof(uint32_t));
    m->outs = malloc((m->n_nodes + b->n_outs + 1) * sizeof(uint32_t));
    if (!at || !m->table || !m->outs) {
        free(at);
        return NW_ERR_NOMEM;
    }
    at[0] = 0; /* the root never has outputs: patterns have a word */
    for (size_t k = 0; k < b->n_order; k++) {
        uint32_t u = b->order[k];
        at[u] = (uint32_t)((k + 1) * stride) + (b->out_len[u] ? 1u : 0u);
    }
    size_t n_outs = 0, twin = m->n_nodes * stride;
    for (uint32_t u = 0; u < m->n_nodes; u++) {
        uint32_t *row = m->table + at[u];
        for (size_t c = 0; c < n_cls; c++)
            row[c] = at[s_next(m, b, u, rep[c])];
        if (!b->out_len[u])
            continue;
        row[-1] = (uint32_t)n_outs;
        m->outs[n_outs++] = b->out_len[u];
        memcpy(m->outs + n_outs, b->outs + b->out_at[u], b->out_len[u] * sizeof(uint32_t));
        n_outs += b->out_len[u];
        if (b->in_sep[u]) {
            memcpy(m->table + twin, row, n_cls * sizeof(uint32_t));
            row[sep] = m->table[twin + sep] = (uint32_t)twin;
            twin += stride;
        }
    }
    m->start = m->table[sep];
    free(at);
    return NW_OK;
}

int nw_matcher_compile(nw_matcher_t *m)
{
    if (m->compiled)
        return NW_OK;
    int rc = NW_ERR_NOMEM;
    s_build_t b = {0};
    b.order = malloc(m->n_nodes * sizeof(uint32_t));
    b.fail = calloc(m->n_nodes, sizeof(uint32_t));
    b.in_sep = calloc(m->n_nodes, 1);
    if (!b.order || !b.fail || !b.in_sep)
        goto fail;
    b.n_order = s_build_dfa(m, b.order, b.fail, b.in_sep);
    if ((rc = s_build_outputs(m, &b)) != NW_OK || (rc = s_build_table(m, &b)) != NW_OK)
        goto fail;
    /* The trie and its values are no longer needed once the table exists. */
    free(m->delta);
    free(m->first);
    free(m->values);
    m->delta = m->first = NULL;
    m->values = NULL;
    m->compiled = true;
fail:
    free(b.order);
    free(b.fail);
    free(b.in_sep);
    free(b.out_at);
    free(b.out_len);
    free(b.outs);
    return rc;
}

/* Classifies the UTF-8 sequence at text[i] (a byte >= 0x80): punctuation, spaces and
 * symbols are separators, anything else a letter. Sets *n to the bytes it spans. */
static unsigned s_utf8_symbol(const unsigned char *t, size_t i, size_t len, size_t *n)
{
    unsigned char b = t[i];
    size_t want = b >= 0xF0 ? 4 : b >= 0xE0 ? 3 : b >= 0xC0 ? 2 : 1;
    size_t k = 1;
    while (k < want && i + k < len && (t[i + k] & 0xC0) == 0x80)
        k++;
    *n = k;
    if (k != want || b < 0xC2 || b > 0xF4)
        return S_SEP; /* invalid or truncated */
    unsigned char b1 = t[i + 1];
    switch (b) {
    case 0xC2: return S_SEP; /* U+0080-00BF: nbsp, quotes, signs */
    case 0xC3: return (b1 == 0x97 || b1 == 0xB7) ? S_SEP : S_OTHER; /* x and / signs */
    case 0xE2: return S_SEP;                        /* U+2000-2FFF: punctuation, symbols */
    case 0xE3: return b1 == 0x80 ? S_SEP : S_OTHER; /* CJK punctuation */
    case 0xEF: return (b1 == 0xBB || b1 == 0xBC) ? S_SEP : S_OTHER; /* BOM, fullwidth punct. */
    case 0xF0: return b1 == 0x9F ? S_SEP : S_OTHER;                 /* emoji */
    default: return S_OTHER;
    }
}

/* Reports the outputs of state (one with the report flag); returns how many. Out of
 * line, like the UTF-8 decoding: the scan loop keeps its few variables in registers. */
static __attribute__((noinline)) size_t s_report(const nw_matcher_t *m, size_t state,
                                                 nw_matcher_hit_fn *hit, void *ctx)
{
    const uint32_t *o = m->outs + m->table[state - 1];
    for (uint32_t k = 1; k <= o[0]; k++)
        hit(o[k], ctx);
    return o[0];
}

/* The UTF-8 sequence at t[i] (a byte >= 0x80): its class, plus 256 x its bytes. */
static __attribute__((noinline)) size_t s_utf8_class(const nw_matcher_t *m, const unsigned char *t,
                                                     size_t i, size_t len)
{
    size_t n;
    unsigned sym = s_utf8_symbol(t, i, len, &n);
    return m->sym_cls[sym] | n << 8;
}

/*
 * Scanning. One step (s_step) is a class lookup, then one add and one load that depend
 * on the previous step: a single scan is bound by that load's latency, not by the
 * work. So a long text is scanned as two interleaved streams (s_scan_pair), whose
 * loads overlap: stream A from the current state, stream B from the middle of the
 * span with the root state, as if the text began there. The states of B are those of
 * the full scan from the first position where they coincide with A's (from then on
 * both read the same bytes); before it, B's matches are a subset of the true ones.
 * So A goes on past the middle until it meets B's recorded states, and B's matches
 * after that point are kept (they were held back: matches are reported in text order).
 * If A and B do not meet soon, or B finds too many matches to hold, A just goes on
 * alone: the result is always that of one plain pass.
 */
enum {
    S_PAIR_MIN = 256, /* bytes of a span worth splitting into two streams */
    S_SPAN = 16384,   /* bytes per split span */
    S_SYNC = 64,      /* steps of B recorded for A to meet */
    S_HELD = 128,     /* matches of B held back */
};

typedef struct {
    const nw_matcher_t *m;
    const uint32_t *table;    /* m->table */
    const unsigned char *cls; /* m->cls */
    const unsigned char *t;   /* the text */
    size_t len;               /* its bytes */
    nw_matcher_hit_fn *hit;
    void *ctx;
    size_t found; /* matches reported */
} s_scan_t;

/* A place in the scan: a state, and the position of the next byte. */
typedef struct {
    size_t s;
    size_t i;
} s_pos_t;

/* Reads the symbol at t[*i] from state s; advances *i and returns the next state. The
 * callers keep table and cls in locals: a hit callback could not change them anyway. */
static inline size_t s_step(const s_scan_t *sc, const uint32_t *table, const unsigned char *cls,
                            size_t s, size_t *i)
{
    size_t c = cls[sc->t[*i]];
    if (__builtin_expect(c == S_UTF8, 0)) {
        c = s_utf8_class(sc->m, sc->t, *i, sc->len);
        *i += c >> 8;
        c &= 0xFF;
    } else {
        ++*i;
    }
    return table[s + c];
}

/* Scans from p until its position reaches stop, reporting matches. */
static s_pos_t s_scan_one(s_scan_t *sc, s_pos_t p, size_t stop)
{
    const uint32_t *table = sc->table;
    const unsigned char *cls = sc->cls;
    size_t s = p.s, i = p.i;
    while (i < stop) {
        s = s_step(sc, table, cls, s, &i);
        if (__builtin_expect(s & 1, 0))
            sc->found += s_report(sc->m, s, sc->hit, sc->ctx);
    }
    return (s_pos_t){.s = s, .i = i};
}

/* Scans from p over about span bytes as two streams (see above); span > 2 and the byte
 * at p.i + span / 2 is ASCII. */
static s_pos_t s_scan_pair(s_scan_t *sc, s_pos_t p, size_t span)
{
    const uint32_t *table = sc->table;
    const unsigned char *cls = sc->cls;
    size_t ia = p.i, mid = p.i + span / 2, ib = mid, stop = p.i + span;
    size_t sa = p.s, sb = 0, nb = 0, n_held = 0;
    uint32_t sync[S_SYNC]; /* B's state after each of its first steps */
    struct {
        uint32_t step, state;
    } held[S_HELD]; /* B's matches: its step, its state */
    bool full = false;
    while (ia < mid && ib < stop && !full) {
        sa = s_step(sc, table, cls, sa, &ia);
        sb = s_step(sc, table, cls, sb, &ib);
        if (nb < S_SYNC)
            sync[nb] = (uint32_t)sb;
        nb++;
        if (__builtin_expect(sa & 1, 0))
            sc->found += s_report(sc->m, sa, sc->hit, sc->ctx);
        if (__builtin_expect(sb & 1, 0)) {
            held[n_held].step = (uint32_t)nb;
            held[n_held].state = (uint32_t)sb;
            full = ++n_held == S_HELD;
        }
    }
    s_pos_t a = s_scan_one(sc, (s_pos_t){.s = sa, .i = ia}, mid);
    /* A meets B's recorded states, or goes on alone. */
    size_t na = 0, limit = nb < S_SYNC ? nb : S_SYNC;
    while (na < limit) {
        a.s = s_step(sc, table, cls, a.s, &a.i);
        if (__builtin_expect(a.s & 1, 0))
            sc->found += s_report(sc->m, a.s, sc->hit, sc->ctx);
        if (a.s == sync[na++])
            break;
    }
    if (na == 0 || a.s != sync[na - 1])
        return s_scan_one(sc, a, stop);
    for (size_t k = 0; k < n_held; k++) {
        if (held[k].step > na)
            sc->found += s_report(sc->m, held[k].state, sc->hit, sc->ctx);
    }
    return s_scan_one(sc, (s_pos_t){.s = sb, .i = ib}, stop);
}

size_t nw_matcher_scan(const nw_matcher_t *m, const char *text, size_t len, nw_matcher_hit_fn *hit,
                       void *ctx)
{
    if (!m->compiled)
        return 0;
    s_scan_t sc = {.m = m,
                   .table = m->table,
                   .cls = m->cls,
                   .t = (const unsigned char *)text,
                   .len = len,
                   .hit = hit,
                   .ctx = ctx};
    s_pos_t p = {.s = m->start, .i = 0}; /* after the separator that precedes the text */
    while (len - p.i >= S_PAIR_MIN) {
        size_t span = len - p.i < 2 * S_SPAN ? len - p.i : S_SPAN;
        if (sc.t[p.i + span / 2] < 0x80)
            p = s_scan_pair(&sc, p, span);
        else
            p = s_scan_one(&sc, p, p.i + span / 2 + 1);
    }
    p = s_scan_one(&sc, p, len);
    size_t s = m->table[p.s + m->sym_cls[S_SEP]]; /* the separator that follows the text */
    if (s & 1)
        sc.found += s_report(m, s, hit, ctx);
    return sc.found;
}

size_t nw_matcher_pattern_count(const nw_matcher_t *m)
{
    return m->n_values;
}

void nw_matcher_destroy(nw_matcher_t **m_p)
{
    if (!m_p || !*m_p)
        return;
    nw_matcher_t *m = *m_p;
    free(m->delta);
    free(m->first);
    free(m->values);
    free(m->table);
    free(m->outs);
    free(m);
    *m_p = NULL;
}
