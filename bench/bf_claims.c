/*
 * bf_claims: the abstract's claims against the harness's values. See
 * bf_claims.h.
 */
#include "bf_claims.h"

#include "bf_buf.h"
#include "bf_err.h"
#include "bf_store_claims.h"
#include "bf_table.h"
#include "bf_versus.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* One line of the table. */
struct claim {
    const char *claim;
    const char *paper;
    char value[256];
    char where[192];
    const char *how;
};

/* A maximum over rows, with where it occurs. */
struct best {
    int have;
    double value;
    double lo, hi; /* 90 % prediction interval of a modeled value; NaN */
    int modeled;
    char where[192];
};

static void best_offer(struct best *b, double value, double lo, double hi,
                       int modeled, const char *where)
{
    if (b->have && !(value > b->value))
        return;
    b->have = 1;
    b->value = value;
    b->lo = lo;
    b->hi = hi;
    b->modeled = modeled;
    snprintf(b->where, sizeof(b->where), "%s", where);
}

/*
 * The interval of 1 - a / b where both sides' device compute times move
 * together to the low or the high end of their prediction interval (one
 * profile's error, shared): the reduction is monotone in that common
 * factor, so its two ends bound it. NaN when either end is missing.
 */
static void reduction_interval(double a_lo, double b_lo, double a_hi,
                               double b_hi, double *lo, double *hi)
{
    double r1 = 1 - a_lo / b_lo, r2 = 1 - a_hi / b_hi;

    *lo = *hi = NAN;
    if (!(b_lo > 0) || !(b_hi > 0) || isnan(r1) || isnan(r2))
        return;
    *lo = r1 < r2 ? r1 : r2;
    *hi = r1 < r2 ? r2 : r1;
}

/* "resnet152 C=12 jetson-nano-10w 20 Mbit/s (run 3)" */
static void where_text(char *out, size_t size, const char *model, int channels,
                       const char *device, double rate, int64_t run)
{
    char c[24] = "", r[32] = "";

    if (channels > 0)
        snprintf(c, sizeof(c), " C=%d", channels);
    if (rate > 0)
        snprintf(r, sizeof(r), " %g Mbit/s", rate);
    snprintf(out, size, "%s%s%s%s%s (run %lld)", model, c, device[0] ? " " : "",
             device, r, (long long)run);
}

/* The paper's accuracy bound: 77.1 % compression "for at most 0.6 %"
 * loss (top-1 percentage points); LOSS_BOUND_TEXT is the same number. */
#define LOSS_BOUND_POINTS 0.6
#define LOSS_BOUND_TEXT "0.6"

/*
 * A group of student rows against their teacher: one configuration (run,
 * model, C, variant) over its seeds.
 */
struct group {
    int64_t run_id;
    char model[64];
    char dataset[32];
    int channels;
    char variant[32];
    struct bf_paired_member *students, *teachers;
    size_t n_students, n_teachers, cap;
    double payload_bytes, jpeg_bytes, compression, offload; /* means */
    int jpeg_quality;
    /* Teacher - student, filled by group_test(). */
    struct bf_paired_result loss;
};

struct groups {
    struct group *v;
    size_t n, cap;
};

static void groups_free(struct groups *g)
{
    for (size_t i = 0; i < g->n; i++) {
        free(g->v[i].students);
        free(g->v[i].teachers);
    }
    free(g->v);
}

static struct group *group_of(struct groups *g,
                              const struct bf_teacher_pair_view *v)
{
    for (size_t i = 0; i < g->n; i++) {
        struct group *x = &g->v[i];

        if (x->run_id == v->run_id && strcmp(x->model, v->model) == 0 &&
            x->channels == v->bottleneck_channels &&
            strcmp(x->variant, v->variant) == 0)
            return x;
    }
    if (g->n == g->cap) {
        size_t cap = g->cap ? 2 * g->cap : 16;
        struct group *grown = realloc(g->v, cap * sizeof(*grown));

        if (!grown)
            return NULL;
        g->v = grown;
        g->cap = cap;
    }
    {
        struct group *x = &g->v[g->n++];

        memset(x, 0, sizeof(*x));
        x->run_id = v->run_id;
        snprintf(x->model, sizeof(x->model), "%s", v->model);
        snprintf(x->dataset, sizeof(x->dataset), "%s", v->dataset);
        x->channels = v->bottleneck_channels;
        snprintf(x->variant, sizeof(x->variant), "%s", v->variant);
        return x;
    }
}

/* Static variant names for the members (the views' strings are borrowed
 * for the callback only). */
static const char *member_variant(const char *variant)
{
    return strcmp(variant, "int8") == 0 ? "int8" : "";
}

static int add_pair(const struct bf_teacher_pair_view *v, void *ctx)
{
    struct groups *g = ctx;
    struct group *x = group_of(g, v);
    double k;
    int seen = 0;

    if (!x)
        return bf_err_set(BF_ENOMEM, "claims: out of memory");
    if (x->n_students == x->cap) {
        size_t cap = x->cap ? 2 * x->cap : 8;
        struct bf_paired_member *s = realloc(x->students, cap * sizeof(*s));
        struct bf_paired_member *t;

        if (!s)
            return bf_err_set(BF_ENOMEM, "claims: out of memory");
        x->students = s;
        t = realloc(x->teachers, cap * sizeof(*t));
        if (!t)
            return bf_err_set(BF_ENOMEM, "claims: out of memory");
        x->teachers = t;
        x->cap = cap;
    }
    k = (double)x->n_students;
    x->payload_bytes = (x->payload_bytes * k + v->payload_bytes) / (k + 1);
    x->jpeg_bytes = (x->jpeg_bytes * k + v->jpeg_reference_bytes) / (k + 1);
    x->compression = (x->compression * k + v->compression_vs_jpeg) / (k + 1);
    x->offload = (x->offload * k + v->offload_fraction) / (k + 1);
    x->jpeg_quality = v->jpeg_reference_quality;
    x->students[x->n_students++] =
        (struct bf_paired_member){.case_id = v->case_id,
                                  .variant = member_variant(v->variant),
                                  .seeded = v->seeded,
                                  .seed = v->seed,
                                  .top1 = v->top1};
    for (size_t i = 0; i < x->n_teachers; i++)
        seen |= x->teachers[i].case_id == v->teacher_case_id;
    if (!seen)
        x->teachers[x->n_teachers++] =
            (struct bf_paired_member){.case_id = v->teacher_case_id,
                                      .variant = "fp32",
                                      .seeded = v->seeded,
                                      .seed = v->seed,
                                      .top1 = v->teacher_top1};
    return 0;
}

/* Teacher - student over the group's seeds (or images, one seed). */
static int group_test(struct bf_store *store, struct group *x)
{
    /* A teacher per seed carries its student's seed; one shared teacher
     * pairs with every seed. */
    return bf_versus_paired(store, x->teachers, x->n_teachers, x->students,
                            x->n_students, 1, &x->loss);
}

/* Rounded for ordering, so that equal losses tie. */
static double rounded(double v)
{
    return round(v * 1e9) / 1e9;
}

/* "0.45 points (95 % CI 0.20 to 0.70, paired t p = 0.021, 3 seeds)" */
static void loss_text(char *out, size_t size, const struct bf_paired_result *r,
                      size_t seeds)
{
    char ci[64] = "", p[48] = "";

    if (!isnan(r->lo))
        snprintf(ci, sizeof(ci), "95 %% CI %.2f to %.2f, ", r->lo, r->hi);
    if (!isnan(r->p))
        snprintf(p, sizeof(p), "%s p = %.2g, ", r->test, r->p);
    snprintf(out, size, "%.2f points (%s%s%zu seed%s)", r->diff, ci, p, seeds,
             seeds == 1 ? "" : "s");
}

/* "resnet_mini C=3 (run 1, 3 seeds)" */
static void group_where(char *out, size_t size, const struct group *x)
{
    char c[24] = "";

    if (x->channels > 0)
        snprintf(c, sizeof(c), " C=%d", x->channels);
    snprintf(out, size, "%.64s%s (run %lld, %zu seed%s)%s%.32s", x->model, c,
             (long long)x->run_id, x->n_students, x->n_students == 1 ? "" : "s",
             x->dataset[0] ? ", " : "", x->dataset);
}

/*
 * Claims 1 and 3: the BottleFit 8-bit configuration the paper's claim
 * describes: the highest compression against JPEG whose mean top-1 loss
 * against its teacher over the seeds is within the paper's bound; when
 * none is that close, the one with the smallest mean loss (ties: the
 * higher compression). Equal compression goes to the configuration with
 * more seeds (the better-supported claim), then to the newer run. Its
 * compression and its loss with the loss's interval and paired test.
 */
static int compression_claims(struct bf_store *store, int64_t run_sel,
                              struct claim *compression, struct claim *loss)
{
    struct groups g = {0};
    const struct group *best = NULL;
    int rc = bf_store_each_teacher_pair(store, run_sel, "bottlefit", "int8",
                                        add_pair, &g);

    for (size_t i = 0; rc == 0 && i < g.n; i++) {
        struct group *x = &g.v[i];

        if (isnan(x->compression))
            continue;
        rc = group_test(store, x);
        if (rc || x->loss.pairs == 0)
            continue;
        if (!best) {
            best = x;
        } else {
            double lx = rounded(x->loss.diff), lb = rounded(best->loss.diff);
            int inx = lx <= LOSS_BOUND_POINTS, inb = lb <= LOSS_BOUND_POINTS;
            /* Means over seeds: equal sizes may differ in the last bits. */
            double cx = rounded(x->compression),
                   cb = rounded(best->compression);

            /* Equal compression: the better-supported (more seeds),
             * then the newer run. */
            int later =
                x->n_students > best->n_students ||
                (x->n_students == best->n_students && x->run_id > best->run_id);

            if (inx != inb ? inx
                : inx
                    ? cx > cb || (cx == cb && later)
                    : lx < lb || (lx == lb && (cx > cb || (cx == cb && later))))
                best = x;
        }
    }
    if (rc == 0 && best) {
        group_where(compression->where, sizeof(compression->where), best);
        snprintf(compression->value, sizeof(compression->value),
                 "%.1f %% (%.0f B vs %.0f B JPEG q%d)", best->compression * 100,
                 best->payload_bytes, best->jpeg_bytes, best->jpeg_quality);
        loss_text(loss->value, sizeof(loss->value), &best->loss,
                  best->n_students);
        snprintf(loss->where, sizeof(loss->where), "%s", compression->where);
    }
    groups_free(&g);
    return rc;
}

/* The paper architectures' bottleneck against ImageNet's mean JPEG. */
static int split_found(const struct bf_split_view *v, void *ctx)
{
    struct claim *out = ctx;
    long long c = 0, h = 0, w = 0;

    if (sscanf(v->split_shape, "%lldx%lldx%lld", &c, &h, &w) == 3) {
        double bytes = (double)(c * h * w);

        snprintf(out->value, sizeof(out->value), "%.1f %% (%.0f B vs %.0f B)",
                 (1 - bytes / BF_CLAIMS_IMAGENET_JPEG_BYTES) * 100, bytes,
                 BF_CLAIMS_IMAGENET_JPEG_BYTES);
        where_text(out->where, sizeof(out->where), v->model,
                   v->bottleneck_channels, "", 0, v->run_id);
    }
    return 0;
}

static int imagenet_compression_claim(struct bf_store *store, int64_t run_sel,
                                      struct claim *out)
{
    /* The paper's setting is C = 12: the largest C is the conservative
     * choice when the runs hold several. */
    int rc = bf_store_largest_split(store, run_sel, 224, split_found, out);

    return rc == BF_ENOENT ? 0 : rc;
}

/* The smallest mean 8-bit BottleFit payload of model among g, or NaN. */
static double bottlefit_bytes(const struct groups *g, const char *model)
{
    double b = NAN;

    for (size_t i = 0; i < g->n; i++)
        if (strcmp(g->v[i].model, model) == 0 && !(g->v[i].payload_bytes >= b))
            b = g->v[i].payload_bytes;
    return b;
}

/*
 * Claim 4: the largest mean top-1 loss of the SPINN-style exit rule
 * against the teacher over its confidence thresholds, with its interval
 * and test, the bytes it sends there and, for scale, the smallest 8-bit
 * BottleFit payload of the same model in the runs.
 */
static int spinn_claim(struct bf_store *store, int64_t run_sel,
                       struct claim *out)
{
    struct groups g = {0}, bf = {0};
    const struct group *worst = NULL;
    int rc = bf_store_each_teacher_pair(store, run_sel, "spinn-split",
                                        "exit-t*", add_pair, &g);

    if (rc == 0)
        rc = bf_store_each_teacher_pair(store, run_sel, "bottlefit", "int8",
                                        add_pair, &bf);
    for (size_t i = 0; rc == 0 && i < g.n; i++) {
        struct group *x = &g.v[i];

        rc = group_test(store, x);
        if (rc == 0 && x->loss.pairs > 0 &&
            (!worst || rounded(x->loss.diff) > rounded(worst->loss.diff) ||
             (rounded(x->loss.diff) == rounded(worst->loss.diff) &&
              x->run_id > worst->run_id)))
            worst = x;
    }
    if (rc == 0 && worst) {
        char loss[160], offloaded[40] = "", bytes[48] = "";
        double b = bottlefit_bytes(&bf, worst->model);

        loss_text(loss, sizeof(loss), &worst->loss, worst->n_students);
        if (!isnan(worst->offload))
            snprintf(offloaded, sizeof(offloaded), ", %.0f %% offloaded",
                     worst->offload * 100);
        if (!isnan(b))
            snprintf(bytes, sizeof(bytes), "; BottleFit %.0f B", b);
        snprintf(out->value, sizeof(out->value),
                 "%.150s; %.0f B sent per image%s", loss, worst->payload_bytes,
                 bytes);
        snprintf(out->where, sizeof(out->where),
                 "%.64s %.32s%s (run %lld, %zu seed%s)", worst->model,
                 worst->variant, offloaded, (long long)worst->run_id,
                 worst->n_students, worst->n_students == 1 ? "" : "s");
    }
    groups_free(&g);
    groups_free(&bf);
    return rc;
}

/* The largest reductions 1 - bottlefit / base of power and latency. */
struct device_best {
    struct best *power, *latency;
};

static int device_pair(const struct bf_device_pair_view *v, void *ctx)
{
    struct device_best *d = ctx;
    char where[192];

    char device[96];
    double lo, hi;

    snprintf(device, sizeof(device), "%s%s%s%s", v->device,
             v->runtime ? " (" : "", v->runtime ? v->runtime : "",
             v->runtime ? ")" : "");
    where_text(where, sizeof(where), v->model, v->bottleneck_channels, device,
               isnan(v->link_rate_mbps) ? 0 : v->link_rate_mbps, v->run_id);
    if (v->base_power_mw > 0 && !isnan(v->power_mw)) {
        reduction_interval(v->power_lo_mw, v->base_power_lo_mw, v->power_hi_mw,
                           v->base_power_hi_mw, &lo, &hi);
        best_offer(d->power, 1 - v->power_mw / v->base_power_mw, lo, hi,
                   v->power_modeled, where);
    }
    if (v->base_e2e_ms > 0 && !isnan(v->e2e_ms)) {
        reduction_interval(v->e2e_lo_ms, v->base_e2e_lo_ms, v->e2e_hi_ms,
                           v->base_e2e_hi_ms, &lo, &hi);
        best_offer(d->latency, 1 - v->e2e_ms / v->base_e2e_ms, lo, hi,
                   v->latency_modeled, where);
    }
    return 0;
}

/* Claim 13: the autoencoder split's head over BottleFit's, parameters. */
static int head_pair(const struct bf_head_pair_view *v, void *ctx)
{
    struct best *b = ctx;
    char where[192];

    where_text(where, sizeof(where), v->model, v->bottleneck_channels, "", 0,
               v->run_id);
    snprintf(where + strlen(where), sizeof(where) - strlen(where),
             ": %lld vs %lld params", (long long)v->ae_params,
             (long long)v->bottlefit_params);
    best_offer(b, (double)v->ae_params / (double)v->bottlefit_params, NAN, NAN,
               0, where);
    return 0;
}

static void set_percent(struct claim *c, const struct best *b)
{
    if (!b->have)
        return;
    if (b->modeled && !isnan(b->lo))
        snprintf(c->value, sizeof(c->value), "%.1f %% (modeled, %.1f-%.1f %%)",
                 b->value * 100, b->lo * 100, b->hi * 100);
    else
        snprintf(c->value, sizeof(c->value), "%.1f %%%s", b->value * 100,
                 b->modeled ? " (modeled)" : "");
    snprintf(c->where, sizeof(c->where), "%s", b->where);
}

/* "run 1 quick-train, run 2 quick-net-small" */
struct runs_line {
    struct bf_buf *out;
    int n;
};

static int run_named(const struct bf_run_view *v, void *ctx)
{
    struct runs_line *l = ctx;

    return bf_buf_printf(l->out, "%srun %lld %s%s", l->n++ ? ", " : "",
                         (long long)v->id, v->scenario_name,
                         strcmp(v->status, "finished") == 0 ? ""
                         : strcmp(v->status, "running") == 0
                             ? " (unfinished)"
                             : " (not finished)");
}

/* The table's columns; text leaves out "how computed" and lists it
 * under the table instead. */
static const struct bf_table_column columns[] = {
    {"#", "n", 1},         {"claim", "claim", 0},
    {"paper", "paper", 0}, {"harness", "harness", 0},
    {"where", "where", 0}, {"how computed", "how", 0},
};
#define NCOLS ((int)(sizeof(columns) / sizeof(columns[0])))

/* The claims as a table in the format asked for. */
static int write_table(const struct claim *cl, size_t n,
                       enum bf_report_format format, FILE *out)
{
    struct bf_table t;
    int rc = 0;

    bf_table_init(&t, columns, NCOLS,
                  format == BF_REPORT_TEXT ? NCOLS - 1 : NCOLS);
    for (size_t i = 0; rc == 0 && i < n; i++) {
        char num[24];
        const char *cells[NCOLS] = {num,         cl[i].claim, cl[i].paper,
                                    cl[i].value, cl[i].where, cl[i].how};

        snprintf(num, sizeof(num), "%zu", i + 1);
        rc = bf_table_row_begin(&t);
        for (int c = 0; rc == 0 && c < NCOLS; c++)
            rc = bf_table_set(&t, c, cells[c]);
        if (rc == 0)
            bf_table_row_end(&t);
    }
    if (rc == 0 && format == BF_REPORT_TEXT)
        bf_table_write_text(&t, out);
    else if (rc == 0 && format == BF_REPORT_CSV)
        bf_table_write_csv(&t, out);
    else if (rc == 0)
        bf_table_write_markdown(&t, out);
    bf_table_free(&t);
    return rc;
}

#define NO_DATA "no data"

int bf_claims_write(struct bf_store *store,
                    const struct bf_claims_params *params, FILE *out)
{
    static const char train_src[] =
        "run a training scenario (quick/train, paper/train-*)";
    static const char net_src[] =
        "run a network scenario (quick/net-*, paper/net-*)";
    struct claim cl[] = {
        {"data compression by BottleFit", "77.1 %", NO_DATA, "", ""},
        {"  same, paper architectures vs ImageNet JPEG", "77.1 %", NO_DATA, "",
         ""},
        {"accuracy loss at that compression", "<= 0.6 %", NO_DATA, "", ""},
        {"accuracy loss of SPINN", "up to 6 %", NO_DATA, "", ""},
        {"power reduction vs local computing", "up to 49 %", NO_DATA, "", ""},
        {"latency reduction vs local computing", "up to 89 %", NO_DATA, "", ""},
        {"power reduction vs edge offloading", "up to 37 %", NO_DATA, "", ""},
        {"latency reduction vs edge offloading", "up to 55 %", NO_DATA, "", ""},
        {"power reduction vs autoencoder split, Jetson", "up to 54 %", NO_DATA,
         "", ""},
        {"exec. time reduction vs autoencoder, Jetson", "up to 44 %", NO_DATA,
         "", ""},
        {"power reduction vs autoencoder split, Pi", "up to 40 %", NO_DATA, "",
         ""},
        {"exec. time reduction vs autoencoder, Pi", "up to 62 %", NO_DATA, "",
         ""},
        {"head smaller than autoencoder split's", "83 times", NO_DATA, "", ""},
    };
    const size_t n = sizeof(cl) / sizeof(cl[0]);
    struct best pw[4] = {{0}}, lat[4] = {{0}}, head = {0};
    static const char *const bases[4] = {"local", "edge", "ae-split",
                                         "ae-split"};
    static const char *const patterns[4] = {"*", "*", "jetson*", "raspberry*"};
    int markdown = params->format != BF_REPORT_TEXT;
    struct bf_buf runs;
    struct runs_line line;
    int rc;

    bf_buf_init(&runs);
    line = (struct runs_line){.out = &runs};
    rc = bf_store_each_run(store, params->run_id, run_named, &line);
    if (rc == 0 && line.n == 0)
        rc = bf_err_set(BF_ENOENT, "no runs to read the claims from");
    if (rc == 0)
        rc = compression_claims(store, params->run_id, &cl[0], &cl[2]);
    if (rc == 0)
        rc = imagenet_compression_claim(store, params->run_id, &cl[1]);
    if (rc == 0)
        rc = spinn_claim(store, params->run_id, &cl[3]);
    for (int i = 0; rc == 0 && i < 4; i++) {
        struct device_best d = {&pw[i], &lat[i]};

        rc = bf_store_each_device_pair(store, params->run_id, bases[i],
                                       patterns[i], device_pair, &d);
    }
    if (rc == 0)
        rc = bf_store_each_head_pair(store, params->run_id, head_pair, &head);
    if (rc) {
        bf_buf_free(&runs);
        return rc;
    }
    for (int i = 0; i < 4; i++) {
        set_percent(&cl[4 + 2 * i], &pw[i]);
        set_percent(&cl[5 + 2 * i], &lat[i]);
    }
    if (head.have) {
        snprintf(cl[12].value, sizeof(cl[12].value), "%.1f times", head.value);
        snprintf(cl[12].where, sizeof(cl[12].where), "%s", head.where);
    }
    cl[0].how = "1 - 8-bit bottleneck bytes / JPEG bytes of the same test "
                "images at the reference quality (measured), at the "
                "BottleFit configuration whose mean loss over its seeds "
                "(row 3) is at most " LOSS_BOUND_TEXT " points with the "
                "highest compression (equal compression: the one with "
                "more seeds), else the smallest mean loss";
    cl[1].how = "1 - bytes of the 8-bit split tensor (largest C recorded) / "
                "44,770 B, the mean ImageNet JPEG (reference/bottlefit.md); "
                "sizes only";
    cl[2].how = "teacher fp32 top-1 - BottleFit 8-bit top-1 on the same test "
                "images, percentage points, at row 1's configuration "
                "(measured): the mean over the seeds with its 95 % Student t "
                "interval and paired t test; one seed: the Wald interval and "
                "McNemar's exact test over the images";
    cl[3].how = "max over the exit rule's confidence thresholds of the mean "
                "over seeds of teacher top-1 - the SPINN-style exit rule's "
                "top-1 (measured), interval and test as in row 3, with the "
                "mean bytes it sends per image there";
    for (int i = 4; i < 12; i += 2) {
        cl[i].how = "max over model, C, device and rate of 1 - BottleFit / "
                    "other average power over a request (device rows); "
                    "modeled: with the 90 % prediction interval of the "
                    "device profile (both sides' device times at its low "
                    "and at its high end)";
        cl[i + 1].how = "max over model, C, device and rate of 1 - BottleFit "
                        "/ other median end-to-end latency (device rows: "
                        "device head, measured transfer and server); "
                        "modeled: with the 90 % prediction interval as for "
                        "power";
    }
    cl[12].how = "max over model and C of autoencoder-split head parameters "
                 "/ BottleFit head parameters (the device part)";
    for (size_t i = 0; i < n; i++)
        if (strcmp(cl[i].value, NO_DATA) == 0)
            snprintf(cl[i].where, sizeof(cl[i].where), "%s",
                     i < 4 && i != 1 ? train_src : net_src);

    if (params->format == BF_REPORT_CSV) {
        rc = write_table(cl, n, params->format, out);
        bf_buf_free(&runs);
        return rc;
    }
    fprintf(out, "%sBottleFit abstract claims vs this harness (%s)\n\n",
            markdown ? "### " : "", bf_buf_str(&runs));
    rc = write_table(cl, n, params->format, out);
    if (rc == 0 && !markdown) {
        fprintf(out, "\nhow each value was computed:\n");
        for (size_t i = 0; i < n; i++)
            fprintf(out, "%2zu  %s\n", i + 1, cl[i].how);
    }
    if (rc == 0)
        fprintf(out,
                "\nThe paper's values are ImageNet results on real boards; "
                "the harness's come from Fashion-MNIST training and from "
                "device rows that are modeled unless a probe measured them "
                "(\"modeled\" above). Power is average power over a "
                "request. Intervals of measured values are 95 %% confidence "
                "intervals; those of modeled rows are the device model's "
                "90 %% prediction intervals (leave-one-out residuals of its "
                "fit to published latencies). Modeled rows name the runtime "
                "their device profile models (in parentheses after the "
                "device); the paper does not state the runtime of its "
                "Jetson Nano and Raspberry Pi measurements.\n");
    if (rc == 0) {
        struct bf_versus_params vp = {.run_id = params->run_id,
                                      .a = "bottlefit",
                                      .b = NULL,
                                      .format = params->format};

        fprintf(out, "\n%sBottleFit against the other strategies\n\n",
                markdown ? "### " : "");
        rc = bf_versus_write(store, &vp, out);
        if (rc == BF_ENOENT) {
            bf_err_clear();
            fprintf(out, "(no strategy trained beside BottleFit at the same "
                         "model and C in these runs)\n");
            rc = 0;
        }
    }
    bf_buf_free(&runs);
    return rc;
}
