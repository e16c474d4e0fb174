/*
 * bf_versus: paired comparison of two training strategies, configuration by
 * configuration (bf_versus.h).
 */
#define _POSIX_C_SOURCE 200809L
#include "bf_versus.h"

#include "bf_err.h"
#include "bf_stats.h"
#include "bf_store_claims.h"
#include "bf_table.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* One finished accuracy row of strategy A or B. */
struct row {
    int64_t run_id;
    int64_t case_id;
    char model[64];
    int version, channels, fe;
    char variant[32];
    char strategy[32];
    int seeded;
    uint64_t seed;
    double top1;
    double payload_bytes; /* sent per image; -1: n/a */
    int64_t head_params;  /* -1: n/a */
    int side;             /* 0: A, 1: B */
};

struct rows {
    const struct bf_versus_params *p;
    const int64_t *runs; /* with p->run_id < 0: the runs selected */
    size_t n_runs;
    struct row *v;
    size_t n, cap;
};

static int collect(const struct bf_accuracy_view *v, void *ctx)
{
    struct rows *r = ctx;
    int side;

    if (!v->acc.variant[0] || strcmp(v->acc.split, "test") != 0 ||
        strcmp(v->case_status, "finished") != 0)
        return 0;
    if (r->p->run_id < 0) {
        size_t i = 0;

        while (i < r->n_runs && r->runs[i] != v->run_id)
            i++;
        if (i == r->n_runs)
            return 0;
    }
    if (strcmp(v->strategy, r->p->a) == 0)
        side = 0;
    else if (r->p->b ? strcmp(v->strategy, r->p->b) == 0
                     : strcmp(v->strategy, "teacher") != 0 && v->strategy[0])
        side = 1;
    else
        return 0;
    if ((side == 0 && r->p->a_run > 0 && v->run_id != r->p->a_run) ||
        (side == 1 && r->p->b_run > 0 && v->run_id != r->p->b_run))
        return 0;
    if (r->n == r->cap) {
        size_t cap = r->cap ? 2 * r->cap : 64;
        struct row *grown = realloc(r->v, cap * sizeof(*grown));

        if (!grown)
            return bf_err_set(BF_ENOMEM, "versus: %zu rows", cap);
        r->v = grown;
        r->cap = cap;
    }
    {
        struct row *w = &r->v[r->n++];

        memset(w, 0, sizeof(*w));
        w->run_id = v->run_id;
        w->case_id = v->case_id;
        snprintf(w->model, sizeof(w->model), "%s", v->model);
        w->version = v->bottleneck_version;
        w->channels = v->bottleneck_channels;
        w->fe = v->freeze_encoder;
        snprintf(w->variant, sizeof(w->variant), "%s", v->acc.variant);
        snprintf(w->strategy, sizeof(w->strategy), "%s", v->strategy);
        w->seeded = v->seeded;
        w->seed = v->seed;
        w->top1 = v->acc.top1;
        w->payload_bytes = v->acc.payload_bytes;
        w->head_params = v->head_params;
        w->side = side;
    }
    return 0;
}

/* Rows x and y are of one model and variant, versions equal or one absent
 * (any C). */
static int same_model(const struct row *x, const struct row *y)
{
    return strcmp(x->model, y->model) == 0 &&
           strcmp(x->variant, y->variant) == 0 &&
           (x->version == y->version || x->version <= 0 || y->version <= 0);
}

/* Same configuration: model, C, variant; versions equal or one absent. */
static int same_config(const struct row *x, const struct row *y)
{
    return same_model(x, y) && x->channels == y->channels;
}

enum {
    V_RUN,
    V_STRATEGY_B,
    V_MODEL,
    V_C,
    V_VARIANT,
    V_FE_A,
    V_FE_B,
    V_PAIRS,
    V_A,
    V_B,
    V_DIFF,
    V_LO,
    V_HI,
    V_TEST,
    V_P,
    V_VERDICT,
    V_BYTES_A,
    V_BYTES_B,
    V_HEAD_A,
    V_HEAD_B,
    V_C_B, /* shown in text with match_bytes; CSV always */
    V_NCOLS
};

static const struct bf_table_column columns[V_NCOLS] = {
    [V_RUN] = {"run", "run", 0},
    [V_STRATEGY_B] = {"B", "strategy_b", 0},
    [V_MODEL] = {"model", "model", 0},
    [V_C] = {"C", "bottleneck_channels", 1},
    [V_VARIANT] = {"variant", "variant", 0},
    [V_FE_A] = {"fe A", "freeze_encoder_a", 0},
    [V_FE_B] = {"fe B", "freeze_encoder_b", 0},
    [V_PAIRS] = {"seeds", "seeds", 1},
    [V_A] = {"A top-1", "a_top1", 1},
    [V_B] = {"B top-1", "b_top1", 1},
    [V_DIFF] = {"A - B", "diff_pts", 1},
    [V_LO] = {"95 % CI low", "ci95_low", 1},
    [V_HI] = {"high", "ci95_high", 1},
    [V_TEST] = {"test", "test", 0},
    [V_P] = {"p", "p", 1},
    [V_VERDICT] = {"at 0.05", "verdict", 0},
    [V_BYTES_A] = {"A B/img", "a_payload_bytes", 1},
    [V_BYTES_B] = {"B B/img", "b_payload_bytes", 1},
    [V_HEAD_A] = {"A head params", "a_head_params", 1},
    [V_HEAD_B] = {"B head params", "b_head_params", 1},
    [V_C_B] = {"B C", "b_bottleneck_channels", 1},
};

/* A size column: the value, or "-" where it does not apply. */
static int set_size(struct bf_table *t, int col, double v)
{
    char text[32];

    if (v < 0 || isnan(v))
        snprintf(text, sizeof(text), "-");
    else
        snprintf(text, sizeof(text), "%.0f", v);
    return bf_table_set(t, col, text);
}

static const char *fe_name(int fe)
{
    return fe == 1 ? "yes" : fe == 0 ? "no" : "-";
}

/* McNemar on the images of one pair: the discordant counts into *bc. */
static int paired_images(struct bf_store *store,
                         const struct bf_paired_member *x,
                         const struct bf_paired_member *y, int64_t *n,
                         uint64_t bc[2])
{
    struct bf_prediction_bits px, py;
    int rc =
        bf_store_prediction_bits(store, x->case_id, x->variant, "test", &px);

    if (rc)
        return rc;
    rc = bf_store_prediction_bits(store, y->case_id, y->variant, "test", &py);
    if (rc) {
        free(px.top1);
        return rc;
    }
    if (px.n != py.n || strcmp(px.items_sha256, py.items_sha256) != 0) {
        rc = BF_ENOENT; /* other items: no pairing */
    } else {
        bc[0] = bc[1] = 0;
        for (int64_t i = 0; i < px.n; i++) {
            int a = (px.top1[i / 8] >> (i % 8)) & 1;
            int b = (py.top1[i / 8] >> (i % 8)) & 1;

            bc[0] += a && !b;
            bc[1] += !a && b;
        }
        *n = px.n;
    }
    free(px.top1);
    free(py.top1);
    return rc;
}

/* The partner of a among b[0..nb): with shared, the one member when b has
 * one; else the member with a's seed; -1 when none. */
static long partner(const struct bf_paired_member *a,
                    const struct bf_paired_member *b, size_t nb, int shared)
{
    if (shared && nb == 1)
        return 0;
    for (size_t j = 0; j < nb; j++)
        if (a->seeded == b[j].seeded && (!a->seeded || a->seed == b[j].seed))
            return (long)j;
    return -1;
}

int bf_versus_paired(struct bf_store *store, const struct bf_paired_member *a,
                     size_t na, const struct bf_paired_member *b, size_t nb,
                     int shared, struct bf_paired_result *out)
{
    const struct bf_paired_member *pa = NULL, *pb = NULL;
    size_t cap = na > nb ? na : nb, k = 0;
    double *d, sa = 0, sb = 0;
    int rc = 0;

    if (!out || (na && !a) || (nb && !b))
        return bf_err_set(BF_EINVAL, "bf_versus_paired: NULL argument");
    out->pairs = 0;
    out->a_mean = out->b_mean = out->diff = NAN;
    out->lo = out->hi = out->p = NAN;
    out->test = "-";
    if (!na || !nb)
        return 0;
    d = malloc(cap * sizeof(*d));
    if (!d)
        return bf_err_set(BF_ENOMEM, "versus");
    if (shared && na == 1) {
        /* A lone A member pairs with every B member. */
        for (size_t j = 0; j < nb; j++) {
            d[k++] = a[0].top1 - b[j].top1;
            sa += a[0].top1;
            sb += b[j].top1;
            pa = &a[0];
            pb = &b[j];
        }
    } else {
        for (size_t i = 0; i < na; i++) {
            long j = partner(&a[i], b, nb, shared);

            if (j < 0)
                continue;
            d[k++] = a[i].top1 - b[j].top1;
            sa += a[i].top1;
            sb += b[j].top1;
            pa = &a[i];
            pb = &b[j];
        }
    }
    out->pairs = k;
    if (k) {
        out->a_mean = sa / (double)k;
        out->b_mean = sb / (double)k;
    }
    if (k >= 2) {
        double mean = NAN, half = NAN, sd = 0;

        rc = bf_stats_t_interval(d, k, 0.95, &mean, &half);
        for (size_t i = 0; i < k; i++)
            sd += (d[i] - mean) * (d[i] - mean);
        sd = sqrt(sd / (double)(k - 1));
        out->diff = mean;
        out->lo = mean - half;
        out->hi = mean + half;
        out->test = "paired t";
        out->p = sd > 0      ? 2.0 * (1.0 - bf_stats_t_cdf(
                                                fabs(mean) / (sd / sqrt((double)k)),
                                                (double)(k - 1)))
                 : mean == 0 ? 1.0
                             : 0.0;
    } else if (k == 1) {
        int64_t n = 0;
        uint64_t bc[2];
        int prc = paired_images(store, pa, pb, &n, bc);

        out->diff = d[0];
        if (prc == 0 && n > 0) {
            double x = (double)bc[0], y = (double)bc[1], nn = (double)n;
            double se = sqrt(fmax(x + y - (x - y) * (x - y) / nn, 0)) / nn;
            double z = bf_stats_normal_quantile(0.975);

            out->lo = 100.0 * ((x - y) / nn - z * se);
            out->hi = 100.0 * ((x - y) / nn + z * se);
            rc = bf_stats_mcnemar_exact(bc[0], bc[1], &out->p);
            out->test = "McNemar";
        } else if (prc != BF_ENOENT) {
            rc = prc;
        } else {
            bf_err_clear();
        }
    }
    free(d);
    return rc;
}

static int set(struct bf_table *t, int col, const char *fmt, double v)
{
    char text[48];

    if (isnan(v))
        snprintf(text, sizeof(text), "-");
    else
        snprintf(text, sizeof(text), fmt, v);
    return bf_table_set(t, col, text);
}

/* The members of one side: rows like r0 (configuration and
 * freeze_encoder) into *out (the caller frees). */
static int members(const struct rows *r, const struct row *r0, int64_t run,
                   struct bf_paired_member **out, size_t *n)
{
    *out = malloc((r->n ? r->n : 1) * sizeof(**out));
    *n = 0;
    if (!*out)
        return bf_err_set(BF_ENOMEM, "versus");
    for (size_t i = 0; i < r->n; i++) {
        const struct row *x = &r->v[i];

        if (x->side != r0->side || x->fe != r0->fe || !same_config(x, r0) ||
            strcmp(x->strategy, r0->strategy) != 0 ||
            (run > 0 && x->run_id != run))
            continue;
        (*out)[(*n)++] = (struct bf_paired_member){.case_id = x->case_id,
                                                   .variant = x->variant,
                                                   .seeded = x->seeded,
                                                   .seed = x->seed,
                                                   .top1 = x->top1};
    }
    return 0;
}

/* One comparison: A rows like a0 against B rows like b0 (configuration and
 * freeze_encoder) of run (0: of any run selected), paired by seed. */
static int compare_group(struct bf_store *store, const struct rows *r,
                         const struct row *a0, const struct row *b0,
                         int64_t run, struct bf_table *t)
{
    struct bf_paired_member *ma = NULL, *mb = NULL;
    struct bf_paired_result res;
    size_t na = 0, nb = 0;
    char text[32];
    int rc = members(r, a0, run, &ma, &na);

    if (rc == 0)
        rc = members(r, b0, run, &mb, &nb);
    if (rc == 0)
        rc = bf_versus_paired(store, ma, na, mb, nb, 0, &res);
    if (rc == 0 && res.pairs > 0) {
        rc = bf_table_row_begin(t);
        if (run > 0)
            snprintf(text, sizeof(text), "%lld", (long long)run);
        else
            snprintf(text, sizeof(text), "%lld+%lld", (long long)a0->run_id,
                     (long long)b0->run_id);
        rc = rc ? rc : bf_table_set(t, V_RUN, text);
        rc = rc ? rc : bf_table_set(t, V_STRATEGY_B, b0->strategy);
        rc = rc ? rc : bf_table_set(t, V_MODEL, a0->model);
        snprintf(text, sizeof(text), "%d", a0->channels);
        rc = rc ? rc : bf_table_set(t, V_C, text);
        rc = rc ? rc : bf_table_set(t, V_VARIANT, a0->variant);
        rc = rc ? rc : bf_table_set(t, V_FE_A, fe_name(a0->fe));
        rc = rc ? rc : bf_table_set(t, V_FE_B, fe_name(b0->fe));
        snprintf(text, sizeof(text), "%zu", res.pairs);
        rc = rc ? rc : bf_table_set(t, V_PAIRS, text);
        rc = rc ? rc : set(t, V_A, "%.2f", res.a_mean);
        rc = rc ? rc : set(t, V_B, "%.2f", res.b_mean);
        rc = rc ? rc : set(t, V_DIFF, "%+.2f", res.diff);
        rc = rc ? rc : set(t, V_LO, "%+.2f", res.lo);
        rc = rc ? rc : set(t, V_HI, "%+.2f", res.hi);
        rc = rc ? rc : bf_table_set(t, V_TEST, res.test);
        rc = rc ? rc : set(t, V_P, "%.3g", res.p);
        rc = rc ? rc
                : bf_table_set(t, V_VERDICT,
                               isnan(res.p)    ? "no test"
                               : res.p >= 0.05 ? "no difference"
                               : res.diff > 0  ? "A better"
                                               : "B better");
        rc = rc ? rc : set_size(t, V_BYTES_A, a0->payload_bytes);
        rc = rc ? rc : set_size(t, V_BYTES_B, b0->payload_bytes);
        rc = rc ? rc : set_size(t, V_HEAD_A, (double)a0->head_params);
        rc = rc ? rc : set_size(t, V_HEAD_B, (double)b0->head_params);
        snprintf(text, sizeof(text), "%d", b0->channels);
        rc = rc ? rc : bf_table_set(t, V_C_B, text);
        if (rc == 0)
            bf_table_row_end(t);
    }
    free(ma);
    free(mb);
    return rc;
}

/*
 * With match_bytes: the C of B row j's strategy (and freeze_encoder) whose
 * bytes per image are nearest A row i's (ties: the fewer bytes), among
 * the rows of i's model and variant; -1 when none has bytes.
 */
static int nearest_channels(const struct rows *r, size_t i, size_t j)
{
    const struct row *a = &r->v[i], *b = &r->v[j];
    const struct row *best = NULL;

    if (a->payload_bytes < 0)
        return -1;
    for (size_t y = 0; y < r->n; y++) {
        const struct row *x = &r->v[y];
        double dx, db;

        if (x->side != 1 || x->fe != b->fe || x->payload_bytes < 0 ||
            strcmp(x->strategy, b->strategy) != 0 || !same_model(x, a))
            continue;
        if (!best) {
            best = x;
            continue;
        }
        dx = fabs(x->payload_bytes - a->payload_bytes);
        db = fabs(best->payload_bytes - a->payload_bytes);
        if (dx < db || (dx == db && x->payload_bytes < best->payload_bytes))
            best = x;
    }
    return best ? best->channels : -1;
}

/* A row i and B row j are compared: the same configuration, or with
 * match_bytes the same model and variant at the B C of nearest bytes. */
static int pairs_with(const struct rows *r, size_t i, size_t j)
{
    if (!r->p->match_bytes)
        return same_config(&r->v[i], &r->v[j]);
    return same_model(&r->v[i], &r->v[j]) &&
           r->v[j].channels == nearest_channels(r, i, j);
}

/* Rows x and y are of one side's configuration (freeze_encoder, model,
 * C, variant, strategy). */
static int like(const struct row *x, const struct row *y)
{
    return x->fe == y->fe && same_config(x, y) &&
           strcmp(x->strategy, y->strategy) == 0;
}

/*
 * The run a comparison of rows i (A) and j (B) is scoped to: when some run
 * holds both configurations, each such run is compared on its own (a run
 * is one budget, one recipe: the paper's epochs and an equal budget must
 * not be pooled), and i and j must be of one run; else (the strategies
 * were run by different scenarios) 0, every run selected.
 */
static int64_t scope_run(const struct rows *r, size_t i, size_t j, int *skip)
{
    *skip = 0;
    if (r->v[i].run_id == r->v[j].run_id)
        return r->v[i].run_id;
    /* Of two runs: pooled only when no run holds both. */
    for (size_t x = 0; x < r->n; x++) {
        if (r->v[x].side != 0 || !like(&r->v[x], &r->v[i]))
            continue;
        for (size_t y = 0; y < r->n; y++)
            if (r->v[y].side == 1 && r->v[y].run_id == r->v[x].run_id &&
                like(&r->v[y], &r->v[j])) {
                *skip = 1;
                return 0;
            }
    }
    return 0;
}

/* Rows i (A) and j (B), scoped to run, stand for the same comparison as a
 * and b scoped to run_ab. */
static int same_group(const struct rows *r, size_t i, size_t j, int64_t run,
                      size_t a, size_t b, int64_t run_ab)
{
    return run == run_ab && like(&r->v[i], &r->v[a]) &&
           like(&r->v[j], &r->v[b]);
}

struct run_ids {
    int64_t *v;
    size_t n, cap;
};

static int add_run(const struct bf_run_view *v, void *ctx)
{
    struct run_ids *ids = ctx;

    if (ids->n == ids->cap) {
        size_t cap = ids->cap ? 2 * ids->cap : 16;
        int64_t *grown = realloc(ids->v, cap * sizeof(*grown));

        if (!grown)
            return bf_err_set(BF_ENOMEM, "versus: %zu runs", cap);
        ids->v = grown;
        ids->cap = cap;
    }
    ids->v[ids->n++] = v->id;
    return 0;
}

int bf_versus_write(struct bf_store *store, const struct bf_versus_params *p,
                    FILE *out)
{
    struct rows r = {.p = p};
    struct run_ids runs = {0};
    struct bf_table t;
    size_t *done = NULL, ndone = 0;
    int rc = 0;

    if (!store || !p || !p->a || !out)
        return bf_err_set(BF_EINVAL, "bf_versus_write: NULL argument");
    bf_table_init(&t, columns, V_NCOLS, p->match_bytes ? V_NCOLS : V_C_B);
    if (p->run_id < 0) {
        rc = bf_store_each_run(store, BF_STORE_NEWEST_RUNS, add_run, &runs);
        r.runs = runs.v;
        r.n_runs = runs.n;
    }
    if (rc == 0)
        rc = bf_store_each_accuracy(store, p->run_id < 0 ? 0 : p->run_id,
                                    collect, &r);
    /* Each (A configuration, B configuration) once, at its first pair. */
    done = calloc(r.n ? 3 * r.n * r.n : 1, sizeof(*done));
    if (rc == 0 && !done)
        rc = bf_err_set(BF_ENOMEM, "versus");
    for (size_t i = 0; rc == 0 && i < r.n; i++) {
        if (r.v[i].side != 0)
            continue;
        for (size_t j = 0; rc == 0 && j < r.n; j++) {
            int seen = 0, skip = 0;
            int64_t run;

            if (r.v[j].side != 1 || !pairs_with(&r, i, j))
                continue;
            run = scope_run(&r, i, j, &skip);
            if (skip)
                continue;
            for (size_t g = 0; !seen && g < ndone; g++)
                seen = same_group(&r, i, j, run, done[3 * g], done[3 * g + 1],
                                  (int64_t)done[3 * g + 2]);
            if (seen)
                continue;
            done[3 * ndone] = i;
            done[3 * ndone + 1] = j;
            done[3 * ndone + 2] = (size_t)run;
            ndone++;
            rc = compare_group(store, &r, &r.v[i], &r.v[j], run, &t);
        }
    }
    free(done);
    if (rc == 0 && t.nrows == 0)
        rc = bf_err_set(BF_ENOENT,
                        "no configuration (model, %s, variant) has finished "
                        "cases of both '%s' and %s%s%s in the run(s) "
                        "selected",
                        p->match_bytes ? "bytes per image" : "C", p->a,
                        p->b ? "'" : "", p->b ? p->b : "another strategy",
                        p->b ? "'" : "");
    if (rc == 0) {
        if (p->format == BF_REPORT_CSV) {
            bf_table_write_csv(&t, out);
        } else {
            fprintf(out,
                    "A = %s, B = %s%s: test top-1 difference A - B in "
                    "points, 95 %% interval, paired test\n",
                    p->a, p->b ? p->b : "each other strategy",
                    p->match_bytes ? " at the C (column B C) whose bytes per "
                                     "image are nearest A's"
                                   : "");
            if (p->format == BF_REPORT_MARKDOWN)
                bf_table_write_markdown(&t, out);
            else
                bf_table_write_text(&t, out);
        }
    }
    bf_table_free(&t);
    free(r.v);
    free(runs.v);
    return rc;
}
