/*
 * newswire-train: learns the publisher's topic model from labelled documents
 * (nw_corpus, nw_train), writes it (nw_model), shows what a model learned, and
 * measures cross-validated quality.
 */
#include "nw_corpus.h"
#include "nw_error.h"
#include "nw_forkjobs.h"
#include "nw_model.h"
#include "nw_evaluate.h"
#include "nw_train.h"

#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define S_PROGRAM  "newswire-train"
#define S_MAX_SETS 16
#define S_MAX_MAPS 64

static void s_help(void)
{
    printf("NAME\n"
           "    " S_PROGRAM " - learn, show and measure newswire's topic model\n"
           "\n"
           "SYNOPSIS\n"
           "    " S_PROGRAM " [--topics FILE] --set LABELS.tsv,DIR[,extra-negatives]... \\\n"
           "        [--map FROM=TOPIC]... -o MODEL\n"
           "    " S_PROGRAM " [--topics FILE] --set ... --evaluate K [--oof FILE]\n"
           "    " S_PROGRAM " --show MODEL [--top N]\n"
           "\n"
           "DESCRIPTION\n"
           "    Trains one linear classifier per topic (liblinear, L2-regularised L2-loss\n"
           "    SVM) on the words, word pairs and taxonomy evidence of labelled documents,\n"
           "    picks each topic's features, C and threshold by cross-validation on the\n"
           "    training documents, and writes a model file that newswire-pub --model\n"
           "    reads. The same documents give the same bytes.\n"
           "\n"
           "OPTIONS\n"
           "    --set LABELS,DIR[,extra-negatives]\n"
           "                          a labels file (0/1 columns, or path + category) and the\n"
           "                          folder its documents are in; extra-negatives lets the\n"
           "                          documents of the other sets that the taxonomy scores\n"
           "                          under half a topic's threshold count as its negatives\n"
           "    --map FROM=TOPIC      label column or category FROM is taxonomy topic TOPIC\n"
           "    -t, --topics FILE     taxonomy (default: the built-in one)\n"
           "    -o, --output MODEL    write the model there\n"
           "    --folds K             cross-validation folds for C and thresholds (default 5)\n"
           "    --words-only          leave the taxonomy features out of the model\n"
           "    --idf                 let cross-validation also try, per topic, features scaled\n"
           "                          by their idf while training (folded back into the\n"
           "                          weights)\n"
           "    --min-df N            leave out features found in fewer than N of a fit's\n"
           "                          training documents (default 2; 1 keeps every feature)\n"
           "    --jobs N              topics trained at once, each in a worker process\n"
           "                          (default: the processors online; same model either way)\n"
           "    --prune X             drop weights smaller than X in magnitude (default 0.02)\n"
           "    --max-per-topic N     keep at most N weights per topic (default 6000)\n"
           "    --evaluate K          print K-fold cross-validated precision, recall and F1\n"
           "                          per topic (taxonomy, words-only model, combination);\n"
           "                          C and thresholds are chosen inside each training part\n"
           "    --oof FILE            with --evaluate: the combination's out-of-fold topics\n"
           "    --only TOPIC,...      with --evaluate: score these topics only\n"
           "    --show MODEL          print each topic's threshold and strongest features\n"
           "    --top N               with --show: features per topic and sign (default 15)\n"
           "    -h, --help            print this help and exit\n"
           "    -V, --version         print the version and exit\n"
           "\n"
           "EXIT STATUS\n"
           "    0 done; 1 a file could not be read or written, or training failed; 2 usage\n"
           "\n"
           "See newswire-train(1) for the labels and model file formats.\n");
}

static int s_usage(const char *msg)
{
    fprintf(stderr, S_PROGRAM ": %s (see --help)\n", msg);
    return 2;
}

typedef struct {
    size_t row;
    float w;
} s_ranked_t;

static int s_cmp_ranked(const void *a, const void *b)
{
    const s_ranked_t *x = a, *y = b;
    if (x->w != y->w)
        return x->w < y->w ? 1 : -1;
    return (x->row > y->row) - (x->row < y->row);
}

static int s_show(const char *path, size_t top)
{
    char err[512];
    nw_model_t *m = NULL;
    if (nw_model_load(path, &m, err, sizeof err) != NW_OK) {
        fprintf(stderr, S_PROGRAM ": --show %s\n", err);
        return 1;
    }
    size_t rows = nw_model_row_count(m);
    s_ranked_t *r = malloc((rows ? rows : 1) * sizeof(*r));
    if (!r) {
        nw_model_destroy(&m);
        return 1;
    }
    printf("%s: %zu topics, %zu weighted features, taxonomy features %s\n", path,
           nw_model_topic_count(m), rows, nw_model_taxonomy_features(m) ? "yes" : "no");
    for (size_t t = 0; t < nw_model_topic_count(m); t++) {
        printf("\ntopic %s  threshold %+.4f  bias %+.4f\n", nw_model_topic_name(m, t),
               nw_model_topic_threshold(m, t), nw_model_topic_bias(m, t));
        size_t n = 0;
        for (size_t i = 0; i < rows; i++) {
            float w = nw_model_row_weights(m, i)[t];
            if (w != 0)
                r[n++] = (s_ranked_t){.row = i, .w = w};
        }
        qsort(r, n, sizeof(*r), s_cmp_ranked);
        printf("  for:    ");
        for (size_t i = 0; i < n && i < top && r[i].w > 0; i++)
            printf("%s%s %+.3f", i ? ", " : "", nw_model_row_name(m, r[i].row), (double)r[i].w);
        printf("\n  against:");
        for (size_t i = 0; i < n && i < top && r[n - 1 - i].w < 0; i++)
            printf("%s %s %+.3f", i ? "," : "", nw_model_row_name(m, r[n - 1 - i].row),
                   (double)r[n - 1 - i].w);
        printf("\n");
    }
    free(r);
    nw_model_destroy(&m);
    return 0;
}

static bool s_size(const char *s, size_t lo, size_t hi, size_t *out)
{
    char *end;
    unsigned long v = strtoul(s, &end, 10);
    if (end == s || *end || v < lo || v > hi)
        return false;
    *out = v;
    return true;
}

int main(int argc, char *argv[])
{
    enum {
        O_SET = 256,
        O_MAP,
        O_FOLDS,
        O_WORDS,
        O_IDF,
        O_PRUNE,
        O_MAXPT,
        O_EVAL,
        O_OOF,
        O_ONLY,
        O_SHOW,
        O_TOP,
        O_JOBS,
        O_MINDF
    };
    static const struct option opts[] = {
        {"set", required_argument, NULL, O_SET},
        {"map", required_argument, NULL, O_MAP},
        {"topics", required_argument, NULL, 't'},
        {"output", required_argument, NULL, 'o'},
        {"folds", required_argument, NULL, O_FOLDS},
        {"words-only", no_argument, NULL, O_WORDS},
        {"idf", no_argument, NULL, O_IDF},
        {"min-df", required_argument, NULL, O_MINDF},
        {"prune", required_argument, NULL, O_PRUNE},
        {"max-per-topic", required_argument, NULL, O_MAXPT},
        {"evaluate", required_argument, NULL, O_EVAL},
        {"oof", required_argument, NULL, O_OOF},
        {"only", required_argument, NULL, O_ONLY},
        {"show", required_argument, NULL, O_SHOW},
        {"top", required_argument, NULL, O_TOP},
        {"jobs", required_argument, NULL, O_JOBS},
        {"help", no_argument, NULL, 'h'},
        {"version", no_argument, NULL, 'V'},
        {NULL, 0, NULL, 0},
    };
    char *sets[S_MAX_SETS];
    nw_corpus_map_t maps[S_MAX_MAPS];
    size_t n_sets = 0, n_maps = 0, evaluate = 0, top = 15;
    const char *topics = NULL, *output = NULL, *oof_path = NULL, *show = NULL;
    nw_train_opts_t o = {.folds = 5,
                         .taxonomy_features = true,
                         .rules = true,
                         .min_df = 2,
                         .prune = 0.02,
                         .max_per_topic = 6000,
                         .workers = nw_forkjobs_default_workers()};
    int c;
    while ((c = getopt_long(argc, argv, "t:o:hV", opts, NULL)) != -1) {
        switch (c) {
        case O_SET:
            if (n_sets == S_MAX_SETS)
                return s_usage("--set: at most 16 sets");
            sets[n_sets++] = optarg;
            break;
        case O_MAP: {
            char *eq = strchr(optarg, '=');
            if (!eq || eq == optarg || !eq[1] || n_maps == S_MAX_MAPS)
                return s_usage("--map: expected FROM=TOPIC (at most 64)");
            *eq = '\0';
            maps[n_maps++] = (nw_corpus_map_t){.from = optarg, .to = eq + 1};
            break;
        }
        case 't': topics = optarg; break;
        case 'o': output = optarg; break;
        case O_FOLDS:
            if (!s_size(optarg, 2, 20, &o.folds))
                return s_usage("--folds: a whole number from 2 to 20");
            break;
        case O_WORDS: o.taxonomy_features = false; break;
        case O_IDF: o.idf = true; break;
        case O_MINDF:
            if (!s_size(optarg, 1, 1000, &o.min_df))
                return s_usage("--min-df: a whole number from 1 to 1000");
            break;
        case O_JOBS:
            if (!s_size(optarg, 1, 64, &o.workers))
                return s_usage("--jobs: a whole number from 1 to 64");
            break;
        case O_PRUNE: {
            char *end;
            o.prune = strtod(optarg, &end);
            if (end == optarg || *end || !(o.prune >= 0 && o.prune < 10))
                return s_usage("--prune: a number from 0 to 10");
            break;
        }
        case O_MAXPT:
            if (!s_size(optarg, 1, 1000000, &o.max_per_topic))
                return s_usage("--max-per-topic: a whole number from 1 to 1000000");
            break;
        case O_EVAL:
            if (!s_size(optarg, 2, 20, &evaluate))
                return s_usage("--evaluate: a whole number from 2 to 20");
            break;
        case O_OOF: oof_path = optarg; break;
        case O_ONLY: o.only = optarg; break;
        case O_SHOW: show = optarg; break;
        case O_TOP:
            if (!s_size(optarg, 1, 10000, &top))
                return s_usage("--top: a whole number from 1 to 10000");
            break;
        case 'h': s_help(); return 0;
        case 'V': printf("%s %s\n", S_PROGRAM, NW_VERSION); return 0;
        default: return s_usage("bad option");
        }
    }
    if (optind < argc)
        return s_usage("unexpected argument");
    if (show)
        return s_show(show, top);
    if (n_sets == 0 || (!output && !evaluate))
        return s_usage("give --set and -o MODEL (or --evaluate K)");

    char err[1024];
    nw_taxonomy_t *tax = NULL;
    int rc = topics ? nw_taxonomy_load(topics, &tax, err, sizeof err) : nw_taxonomy_default(&tax);
    if (rc != NW_OK) {
        fprintf(stderr, S_PROGRAM ": --topics %s\n", topics ? err : nw_strerror(rc));
        return 2;
    }
    nw_corpus_t corpus;
    int status = 1;
    if (nw_corpus_init(&corpus, tax) != NW_OK)
        goto done;
    for (size_t i = 0; i < n_sets; i++) {
        char *labels = sets[i], *dir = strchr(labels, ',');
        if (!dir) {
            status = s_usage("--set: expected LABELS.tsv,DIR[,extra-negatives]");
            goto done;
        }
        *dir++ = '\0';
        char *flag = strchr(dir, ',');
        if (flag)
            *flag++ = '\0';
        if (flag && strcmp(flag, "extra-negatives") != 0) {
            status = s_usage("--set: the third field can only be 'extra-negatives'");
            goto done;
        }
        if (nw_corpus_add(&corpus, labels, dir, maps, n_maps, flag != NULL, err, sizeof err) !=
            NW_OK) {
            fprintf(stderr, S_PROGRAM ": %s\n", err);
            goto done;
        }
    }
    fprintf(stderr, S_PROGRAM ": %zu documents, %zu topics\n", corpus.n_docs, corpus.n_topics);
    if (evaluate) {
        FILE *oof = oof_path ? fopen(oof_path, "w") : NULL;
        if (oof_path && !oof) {
            fprintf(stderr, S_PROGRAM ": --oof %s: cannot write\n", oof_path);
            goto done;
        }
        rc = nw_evaluate(&corpus, &o, evaluate, stdout, oof, err, sizeof err);
        if (oof && fclose(oof) != 0)
            rc = NW_ERR_IO;
        if (rc != NW_OK) {
            fprintf(stderr, S_PROGRAM ": %s\n", rc == NW_ERR_NOMEM ? "out of memory" : err);
            goto done;
        }
    }
    if (output) {
        nw_model_t *m = NULL;
        if (nw_train_model(&corpus, &o, stderr, &m, err, sizeof err) != NW_OK) {
            fprintf(stderr, S_PROGRAM ": %s\n", err[0] ? err : "out of memory");
            goto done;
        }
        char comment[512];
        snprintf(comment, sizeof comment,
                 "newswire topic model, written by " S_PROGRAM " from %zu labelled documents.\n"
                 "Format and meaning: docs/TAXONOMY.md, \"The model file\".",
                 corpus.n_docs);
        FILE *f = fopen(output, "w");
        rc = f ? nw_model_write(m, f, comment) : NW_ERR_IO;
        if (f && fclose(f) != 0)
            rc = NW_ERR_IO;
        nw_model_destroy(&m);
        if (rc != NW_OK) {
            fprintf(stderr, S_PROGRAM ": -o %s: cannot write\n", output);
            goto done;
        }
    }
    status = 0;
done:
    nw_corpus_free(&corpus);
    nw_taxonomy_destroy(&tax);
    return status;
}
