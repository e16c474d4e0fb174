/*
 * bf_store_figures: the store's queries of the figures. See
 * bf_store_figures.h.
 *
 * The statements are prepared on demand, one per call, and finalized before
 * the call returns (the figures read each once per model). A run set goes
 * into the SQL text as a list of integers ("c.run_id IN (1,3)"), formatted
 * here from int64_t values, or as the subquery of every run.
 */
#define _POSIX_C_SOURCE 200809L
#include "bf_store_figures.h"

#include "bf_buf.h"
#include "bf_err.h"
#include "bf_stats.h"
#include "bf_store_int.h"

#include <math.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>

/* Rows of finished cases of the runs (the list as %s) and the model (?1). */
#define ACC_FROM                                                               \
    " FROM accuracy a JOIN cases c ON c.id = a.case_id WHERE c.run_id IN "     \
    "(%s) AND c.model = ?1 AND c.status = 'finished' AND a.split = 'test' "    \
    "AND c.strategy IS NOT NULL"
#define DEV_FROM                                                               \
    " FROM device_results d JOIN cases c ON c.id = d.case_id WHERE "           \
    "c.run_id IN (%s) AND c.model = ?1 AND c.status = 'finished' AND "         \
    "d.role = 'device'"

/* Accuracy rows that name a model's figures: those over the network (the
 * "network" variant of an offloaded evaluation) aside. */
#define ACC_FIGURE_WHERE                                                       \
    "c.status = 'finished' AND a.split = 'test' AND a.variant <> 'network' "   \
    "AND c.strategy IS NOT NULL"

/* Epoch rows that name a model's training curves. */
#define EPOCH_FIGURE_WHERE "c.status = 'finished' AND c.strategy IS NOT NULL"

static const char *const models_sql[] = {
    [BF_STORE_FIGURE_ACCURACY] =
        "SELECT DISTINCT c.model FROM accuracy a JOIN cases c ON c.id = "
        "a.case_id WHERE c.run_id IN (%s) AND " ACC_FIGURE_WHERE
        " ORDER BY c.model",
    [BF_STORE_FIGURE_DEVICES] =
        "SELECT DISTINCT c.model FROM device_results d JOIN cases c ON c.id "
        "= d.case_id WHERE c.run_id IN (%s) AND c.status = 'finished' AND "
        "d.role = 'device' ORDER BY c.model",
    [BF_STORE_FIGURE_EPOCHS] =
        "SELECT DISTINCT c.model FROM epochs e JOIN cases c ON c.id = "
        "e.case_id WHERE c.run_id IN (%s) AND " EPOCH_FIGURE_WHERE
        " ORDER BY c.model",
};

static const char *const newest_sql[] = {
    [BF_STORE_FIGURE_ACCURACY] =
        "SELECT max(c.run_id) FROM accuracy a JOIN cases c ON c.id = "
        "a.case_id JOIN runs r ON r.id = c.run_id WHERE c.model = ?1 "
        "AND " ACC_FIGURE_WHERE " GROUP BY r.scenario_name ORDER BY 1",
    [BF_STORE_FIGURE_DEVICES] =
        "SELECT max(c.run_id) FROM device_results d JOIN cases c ON c.id = "
        "d.case_id WHERE c.model = ?1 AND c.status = 'finished' AND d.role = "
        "'device'",
    [BF_STORE_FIGURE_EPOCHS] =
        "SELECT max(c.run_id) FROM epochs e JOIN cases c ON c.id = "
        "e.case_id JOIN runs r ON r.id = c.run_id WHERE c.model = ?1 "
        "AND " EPOCH_FIGURE_WHERE " GROUP BY r.scenario_name ORDER BY 1",
};

/* Two columns each: the device ('' where none) and the text. */
static const char *const text_sql[] = {
    [BF_STORE_TEXT_DATASETS] =
        "SELECT DISTINCT '', c.dataset" ACC_FROM " ORDER BY 2",
    [BF_STORE_TEXT_ACCURACY_METHODS] =
        "SELECT DISTINCT '', a.method" ACC_FROM " ORDER BY 2",
    [BF_STORE_TEXT_LATENCY_METHODS] =
        "SELECT DISTINCT d.device, d.latency_method" DEV_FROM " ORDER BY 1, 2",
    [BF_STORE_TEXT_POWER_METHODS] =
        "SELECT DISTINCT d.device, d.power_method" DEV_FROM " ORDER BY 1, 2",
    [BF_STORE_TEXT_HOST_METHODS] =
        "SELECT DISTINCT '', a.method FROM aggregates a JOIN cases c ON c.id "
        "= a.case_id WHERE c.run_id IN (%s) AND c.model = ?1 AND c.status = "
        "'finished' AND a.metric IN ('encode', 'transfer', 'server_queue', "
        "'server_decode', 'tail') AND EXISTS (SELECT 1 FROM device_results d "
        "WHERE d.case_id = c.id) ORDER BY 2",
    [BF_STORE_TEXT_LINKS] = "SELECT DISTINCT '', c.link" DEV_FROM
                            " AND c.link IS NOT NULL ORDER BY 2",
};

/*
 * One configuration's accuracy rows, averaged; the seeds are counted so
 * that a point can be matched with its seed group.
 */
#define ACC_POINTS_SQL                                                         \
    "SELECT c.strategy, coalesce(c.freeze_encoder, 0) AS fe, "                 \
    "coalesce(c.bottleneck_channels, 0) AS ch, a.variant, count(*), "          \
    "count(DISTINCT c.seed), min(a.n), max(a.n), avg(a.payload_bytes), "       \
    "avg(a.top1)" ACC_FROM " GROUP BY c.strategy, fe, ch, a.variant ORDER BY " \
    "c.strategy, fe, ch, a.variant"

/*
 * A device and configuration's rows, averaged over its cases (repeats,
 * runs), with the case ids (for the samples) and whether every row's
 * device time is measured; the edge server's stages are the p50 of the
 * case's aggregates.
 */
#define DEV_POINTS_SQL                                                         \
    "SELECT d.device, c.config, coalesce(c.bottleneck_channels, 0) AS ch, "    \
    "coalesce(c.background_clients, 0) AS bg, c.link IS NOT NULL AS sent, "    \
    "c.link_rate_mbps AS rate, count(*), avg(d.e2e_ms), avg(d.head_ms), "      \
    "avg(d.encode_ms), avg(d.transfer_ms), avg(q.p50), avg(dc.p50), "          \
    "avg(t.p50), avg(d.energy_mj), avg(d.avg_power_mw), "                      \
    "min(coalesce(d.latency_method, '') GLOB 'measured*'), "                   \
    "group_concat(c.id), avg(d.e2e_lo_ms), avg(d.e2e_hi_ms), "                 \
    "avg(d.energy_lo_mj), avg(d.energy_hi_mj) "                                \
    "FROM device_results d JOIN cases c ON c.id = "                            \
    "d.case_id LEFT JOIN aggregates q ON q.case_id = c.id AND q.metric = "     \
    "'server_queue' LEFT JOIN aggregates dc ON dc.case_id = c.id AND "         \
    "dc.metric = 'server_decode' LEFT JOIN aggregates t ON t.case_id = c.id "  \
    "AND t.metric = 'tail' WHERE c.run_id IN (%s) AND c.model = ?1 AND "       \
    "c.status = 'finished' AND d.role = 'device' GROUP BY d.device, "          \
    "c.config, ch, bg, sent, rate ORDER BY d.device, c.config, ch, bg, sent, " \
    "rate"

#define HEAD_SIZES_SQL                                                         \
    "SELECT c.config, coalesce(c.bottleneck_channels, 0) AS ch, "              \
    "max(c.link IS NOT NULL), avg(CASE WHEN c.link IS NULL THEN c.params "     \
    "ELSE c.head_params END), avg(CASE WHEN c.link IS NULL THEN c.macs ELSE "  \
    "c.head_macs END) FROM cases c WHERE c.run_id IN (%s) AND c.model = ?1 "   \
    "AND c.status = 'finished' AND EXISTS (SELECT 1 FROM device_results d "    \
    "WHERE d.case_id = c.id) GROUP BY c.config, ch ORDER BY c.config, ch"

/*
 * The epoch rows of each training configuration's case with the lowest
 * seed (sel: the cases with epoch rows; pick: per configuration, their
 * number and the case drawn).
 */
#define EPOCH_POINTS_SQL                                                       \
    "WITH sel AS (SELECT c.id, c.strategy, coalesce(c.freeze_encoder, 0) AS "  \
    "fe, coalesce(c.bottleneck_channels, 0) AS ch, c.seed FROM cases c WHERE " \
    "c.run_id IN (%s) AND c.model = ?1 AND " EPOCH_FIGURE_WHERE                \
    " AND EXISTS (SELECT 1 FROM epochs e WHERE e.case_id = c.id)), pick AS "   \
    "(SELECT s.strategy, s.fe, s.ch, count(*) AS n, (SELECT t.id FROM sel t "  \
    "WHERE t.strategy = s.strategy AND t.fe = s.fe AND t.ch = s.ch ORDER BY "  \
    "t.seed IS NULL, t.seed, t.id LIMIT 1) AS id FROM sel s GROUP BY "         \
    "s.strategy, s.fe, s.ch) SELECT p.strategy, p.fe, p.ch, p.n, p.id, "       \
    "c.seed, e.seq, e.phase, e.epoch, e.lr, e.train_loss, "                    \
    "e.train_loss_per_image, e.val_top1, e.best FROM pick p JOIN cases c ON "  \
    "c.id = p.id JOIN epochs e ON e.case_id = p.id ORDER BY p.strategy, "      \
    "p.fe, p.ch, e.seq"

/* Every run, as the run list of a query given none. */
#define ALL_RUNS_SQL "SELECT id FROM runs"

static int bad_args(const char *fn_name)
{
    return bf_err_set(BF_EINVAL, "%s: NULL argument", fn_name);
}

/*
 * Prepare sql_fmt with the run list in place of its one %s (and, when
 * model is not NULL, the model bound as ?1).
 */
static int prepare_runs(struct bf_store *store, sqlite3_stmt **st,
                        const char *what, const char *sql_fmt,
                        const int64_t *run_ids, size_t n_runs,
                        const char *model)
{
    struct bf_buf ids, sql;
    int rc = 0;

    *st = NULL;
    bf_buf_init(&ids);
    bf_buf_init(&sql);
    for (size_t i = 0; rc == 0 && i < n_runs; i++)
        rc = bf_buf_printf(&ids, "%s%lld", i ? "," : "", (long long)run_ids[i]);
    if (rc == 0)
        rc = bf_buf_printf(&sql, sql_fmt,
                           n_runs ? bf_buf_str(&ids) : ALL_RUNS_SQL);
    if (rc == 0 && sqlite3_prepare_v2(store->db, bf_buf_str(&sql), -1, st,
                                      NULL) != SQLITE_OK)
        rc = db_fail(store, "%s", what);
    if (rc == 0 && model &&
        sqlite3_bind_text(*st, 1, model, -1, SQLITE_STATIC) != SQLITE_OK)
        rc = db_fail(store, "%s", what);
    if (rc) {
        sqlite3_finalize(*st);
        *st = NULL;
    }
    bf_buf_free(&ids);
    bf_buf_free(&sql);
    return rc;
}

/*
 * A walk: the caller's callback (one member per kind of row) and its
 * context; for accuracy points, the seed groups they are matched with.
 */
struct walk {
    union {
        int (*model)(const char *model, void *ctx);
        int (*run)(int64_t run_id, void *ctx);
        int (*accuracy)(const struct bf_accuracy_point_view *view, void *ctx);
        int (*epoch)(const struct bf_epoch_point_view *view, void *ctx);
        int (*device)(const struct bf_device_point_view *view, void *ctx);
        int (*head)(const struct bf_head_size_view *view, void *ctx);
        int (*text)(const char *device, const char *text, void *ctx);
    } fn;
    void *ctx;
    const struct groups *groups;
};

/*
 * Run the query sql_fmt on the runs (and model, see prepare_runs) and call
 * row for every row it returns; a nonzero return from row stops the walk
 * and is returned.
 */
static int each_row(struct bf_store *store, const char *what,
                    const char *sql_fmt, const int64_t *run_ids, size_t n_runs,
                    const char *model,
                    int (*row)(struct bf_store *store, sqlite3_stmt *st,
                               const struct walk *w),
                    const struct walk *w)
{
    sqlite3_stmt *st;
    int rc = prepare_runs(store, &st, what, sql_fmt, run_ids, n_runs, model);

    if (rc)
        return rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        rc = row(store, st, w);
        if (rc)
            goto out;
    }
    rc = rc == SQLITE_DONE ? 0 : db_fail(store, "%s", what);
out:
    sqlite3_finalize(st);
    return rc;
}

/* Runs and models */

static int model_row(struct bf_store *store, sqlite3_stmt *st,
                     const struct walk *w)
{
    (void)store;
    return w->fn.model(column_text(st, 0), w->ctx);
}

int bf_store_each_figure_model(struct bf_store *store,
                               enum bf_store_figure_rows rows,
                               const int64_t *run_ids, size_t n_runs,
                               int (*fn)(const char *model, void *ctx),
                               void *ctx)
{
    struct walk w = {.fn.model = fn, .ctx = ctx};

    if (!store || !fn || (n_runs && !run_ids) ||
        (unsigned)rows >= sizeof(models_sql) / sizeof(models_sql[0]))
        return bad_args("bf_store_each_figure_model");
    return each_row(store, "listing models", models_sql[rows], run_ids, n_runs,
                    NULL, model_row, &w);
}

static int run_row(struct bf_store *store, sqlite3_stmt *st,
                   const struct walk *w)
{
    (void)store;
    if (sqlite3_column_type(st, 0) == SQLITE_NULL)
        return 0; /* max() of no row */
    return w->fn.run(sqlite3_column_int64(st, 0), w->ctx);
}

int bf_store_each_figure_run(struct bf_store *store,
                             enum bf_store_figure_rows rows, const char *model,
                             int (*fn)(int64_t run_id, void *ctx), void *ctx)
{
    struct walk w = {.fn.run = fn, .ctx = ctx};

    if (!store || !model || !fn ||
        (unsigned)rows >= sizeof(newest_sql) / sizeof(newest_sql[0]))
        return bad_args("bf_store_each_figure_run");
    /* No run list in this SQL: prepare_runs() leaves it as it is. */
    return each_row(store, "finding the newest run", newest_sql[rows], NULL, 0,
                    model, run_row, &w);
}

/* Accuracy */

/* A seed group of the figure's model on the test split. */
struct group {
    char *strategy;
    char *variant;
    int freeze_encoder; /* 0 when not recorded, as the points read it */
    int channels;
    size_t seeds;
    double mean, half, sd;
};

struct groups {
    const char *model;
    struct group *g;
    size_t n, cap;
};

static void groups_free(struct groups *gs)
{
    for (size_t i = 0; i < gs->n; i++) {
        free(gs->g[i].strategy);
        free(gs->g[i].variant);
    }
    free(gs->g);
}

static int collect_group(const struct bf_seed_group_view *v, void *ctx)
{
    struct groups *gs = ctx;
    struct group *g;

    if (strcmp(v->model, gs->model) != 0 || strcmp(v->split, "test") != 0)
        return 0;
    if (gs->n == gs->cap) {
        size_t ncap = gs->cap ? 2 * gs->cap : 16;
        struct group *grown = realloc(gs->g, ncap * sizeof(*grown));

        if (!grown)
            return bf_err_set(BF_ENOMEM, "%zu seed groups", ncap);
        gs->g = grown;
        gs->cap = ncap;
    }
    g = &gs->g[gs->n];
    g->strategy = strdup(v->strategy);
    g->variant = strdup(v->variant);
    if (!g->strategy || !g->variant) {
        free(g->strategy);
        free(g->variant);
        return bf_err_set(BF_ENOMEM, "a seed group");
    }
    gs->n++;
    g->freeze_encoder = v->freeze_encoder < 0 ? 0 : v->freeze_encoder;
    g->channels = v->bottleneck_channels;
    g->seeds = v->seeds;
    g->mean = v->top1_mean;
    g->half = v->top1_half;
    g->sd = v->top1_sd;
    return 0;
}

/*
 * The point's interval: its seed group's when it is exactly one (one group
 * of the runs matches and holds every case), Wilson's for one evaluation.
 */
static int point_interval(const struct groups *gs,
                          struct bf_accuracy_point_view *p)
{
    const struct group *match = NULL;
    size_t matches = 0;

    for (size_t i = 0; i < gs->n; i++) {
        const struct group *g = &gs->g[i];

        if (strcmp(g->strategy, p->strategy) == 0 &&
            strcmp(g->variant, p->variant) == 0 &&
            g->freeze_encoder == p->freeze_encoder &&
            g->channels == p->bottleneck_channels) {
            match = g;
            matches++;
        }
    }
    if (matches == 1 && match->seeds == p->cases) {
        p->interval = BF_STORE_INTERVAL_T;
        p->top1_pct = match->mean;
        p->top1_half_pct = match->half;
        p->top1_sd_pct = match->sd;
        p->top1_lo_pct = match->mean - match->half;
        p->top1_hi_pct = match->mean + match->half;
    } else if (p->cases == 1 && p->n_min > 0 && p->top1_pct >= 0 &&
               p->top1_pct <= 100) {
        uint64_t n = (uint64_t)p->n_min;
        uint64_t k = (uint64_t)llround(p->top1_pct * (double)n / 100.0);
        int rc = bf_stats_wilson(k, n, 0.95, &p->top1_lo_pct, &p->top1_hi_pct);

        if (rc)
            return rc;
        p->interval = BF_STORE_INTERVAL_WILSON;
        p->top1_lo_pct *= 100.0;
        p->top1_hi_pct *= 100.0;
    }
    return 0;
}

static int accuracy_row(struct bf_store *store, sqlite3_stmt *st,
                        const struct walk *w)
{
    struct bf_accuracy_point_view p = {
        .strategy = column_text(st, 0),
        .freeze_encoder = sqlite3_column_int(st, 1),
        .bottleneck_channels = sqlite3_column_int(st, 2),
        .variant = column_text(st, 3),
        .cases = (size_t)sqlite3_column_int64(st, 4),
        .seeds = (size_t)sqlite3_column_int64(st, 5),
        .n_min = sqlite3_column_int64(st, 6),
        .n_max = sqlite3_column_int64(st, 7),
        .payload_bytes = column_real(st, 8),
        .top1_pct = column_real(st, 9),
        .interval = BF_STORE_INTERVAL_NONE,
        .top1_half_pct = NAN,
        .top1_sd_pct = NAN,
        .top1_lo_pct = NAN,
        .top1_hi_pct = NAN,
    };
    int rc = point_interval(w->groups, &p);

    (void)store;
    return rc ? rc : w->fn.accuracy(&p, w->ctx);
}

int bf_store_each_accuracy_point(
    struct bf_store *store, const int64_t *run_ids, size_t n_runs,
    const char *model,
    int (*fn)(const struct bf_accuracy_point_view *view, void *ctx), void *ctx)
{
    struct groups gs = {.model = model};
    struct walk w = {.fn.accuracy = fn, .ctx = ctx, .groups = &gs};
    int rc = 0;

    if (!store || !model || !fn || (n_runs && !run_ids))
        return bad_args("bf_store_each_accuracy_point");
    /* The seed groups of the runs (every run: run id 0, once). */
    for (size_t i = 0; rc == 0 && i < (n_runs ? n_runs : 1); i++)
        rc = bf_store_each_seed_group(store, n_runs ? run_ids[i] : 0,
                                      collect_group, &gs);
    if (rc == 0)
        rc = each_row(store, "reading accuracy points", ACC_POINTS_SQL, run_ids,
                      n_runs, model, accuracy_row, &w);
    groups_free(&gs);
    return rc;
}

/* Training curves */

static int epoch_row(struct bf_store *store, sqlite3_stmt *st,
                     const struct walk *w)
{
    struct bf_epoch_point_view e = {
        .strategy = column_text(st, 0),
        .freeze_encoder = sqlite3_column_int(st, 1),
        .bottleneck_channels = sqlite3_column_int(st, 2),
        .cases = (size_t)sqlite3_column_int64(st, 3),
        .case_id = sqlite3_column_int64(st, 4),
        .has_seed = sqlite3_column_type(st, 5) != SQLITE_NULL,
        .seed = (uint64_t)sqlite3_column_int64(st, 5),
        .seq = sqlite3_column_int64(st, 6),
        .phase = column_text(st, 7),
        .epoch = sqlite3_column_int(st, 8),
        .lr = column_real(st, 9),
        .train_loss = column_real(st, 10),
        .train_loss_per_image = column_real(st, 11),
        .val_top1_pct = column_real(st, 12),
        .best = sqlite3_column_int(st, 13),
    };

    (void)store;
    return w->fn.epoch(&e, w->ctx);
}

int bf_store_each_epoch_point(struct bf_store *store, const int64_t *run_ids,
                              size_t n_runs, const char *model,
                              int (*fn)(const struct bf_epoch_point_view *view,
                                        void *ctx),
                              void *ctx)
{
    struct walk w = {.fn.epoch = fn, .ctx = ctx};

    if (!store || !model || !fn || (n_runs && !run_ids))
        return bad_args("bf_store_each_epoch_point");
    return each_row(store, "reading epoch rows", EPOCH_POINTS_SQL, run_ids,
                    n_runs, model, epoch_row, &w);
}

/* Device rows */

static int compare_ids(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

    return (x > y) - (x < y);
}

/*
 * The case ids of a comma-separated list (group_concat) into ids (room
 * for max), ascending; returns their number.
 */
static size_t parse_ids(const char *text, int64_t *ids, size_t max)
{
    size_t n = 0;
    char *end;

    while (*text && n < max) {
        long long id = strtoll(text, &end, 10);

        if (end == text)
            break;
        ids[n++] = id;
        text = *end == ',' ? end + 1 : end;
    }
    if (n > 1)
        qsort(ids, n, sizeof(*ids), compare_ids);
    return n;
}

/* A measured point's interval, from the case ids of its group. */
static int device_interval(struct bf_store *store, const char *id_list,
                           struct bf_device_point_view *p)
{
    int64_t *ids = malloc((p->cases ? p->cases : 1) * sizeof(*ids));
    size_t n;
    int rc;

    if (!ids)
        return bf_err_set(BF_ENOMEM, "%zu case ids", p->cases);
    /* A group has a case at least: n is 0 only for a list SQLite did not
     * write, and the point then keeps no interval. */
    n = parse_ids(id_list, ids, p->cases);
    rc = n ? bf_store_p50_interval(store, ids, n, "e2e", &p->e2e_lo_ms,
                                   &p->e2e_hi_ms, &p->e2e_samples)
           : 0;
    free(ids);
    return rc;
}

static int device_row(struct bf_store *store, sqlite3_stmt *st,
                      const struct walk *w)
{
    struct bf_device_point_view p = {
        .device = column_text(st, 0),
        .config = column_text(st, 1),
        .bottleneck_channels = sqlite3_column_int(st, 2),
        .background_clients = sqlite3_column_int(st, 3),
        .sent = sqlite3_column_int(st, 4),
        .link_rate_mbps = column_real(st, 5),
        .cases = (size_t)sqlite3_column_int64(st, 6),
        .e2e_ms = column_real(st, 7),
        .head_ms = column_real(st, 8),
        .encode_ms = column_real(st, 9),
        .transfer_ms = column_real(st, 10),
        .queue_ms = column_real(st, 11),
        .decode_ms = column_real(st, 12),
        .tail_ms = column_real(st, 13),
        .energy_mj = column_real(st, 14),
        .power_mw = column_real(st, 15),
        .measured = sqlite3_column_int(st, 16),
        /* Modeled: the device model's prediction interval (NaN when it
         * has none); measured: the bootstrap interval below. */
        .e2e_lo_ms = column_real(st, 18),
        .e2e_hi_ms = column_real(st, 19),
        .energy_lo_mj = column_real(st, 20),
        .energy_hi_mj = column_real(st, 21),
    };
    int rc = 0;

    if (p.measured) {
        p.e2e_lo_ms = p.e2e_hi_ms = NAN;
        rc = device_interval(store, column_text(st, 17), &p);
    }

    return rc ? rc : w->fn.device(&p, w->ctx);
}

int bf_store_each_device_point(
    struct bf_store *store, const int64_t *run_ids, size_t n_runs,
    const char *model,
    int (*fn)(const struct bf_device_point_view *view, void *ctx), void *ctx)
{
    struct walk w = {.fn.device = fn, .ctx = ctx};

    if (!store || !model || !fn || (n_runs && !run_ids))
        return bad_args("bf_store_each_device_point");
    return each_row(store, "reading device rows", DEV_POINTS_SQL, run_ids,
                    n_runs, model, device_row, &w);
}

static int head_row(struct bf_store *store, sqlite3_stmt *st,
                    const struct walk *w)
{
    struct bf_head_size_view h = {
        .config = column_text(st, 0),
        .bottleneck_channels = sqlite3_column_int(st, 1),
        .sent = sqlite3_column_int(st, 2),
        .params = column_real(st, 3),
        .macs = column_real(st, 4),
    };

    (void)store;
    return w->fn.head(&h, w->ctx);
}

int bf_store_each_head_size(struct bf_store *store, const int64_t *run_ids,
                            size_t n_runs, const char *model,
                            int (*fn)(const struct bf_head_size_view *view,
                                      void *ctx),
                            void *ctx)
{
    struct walk w = {.fn.head = fn, .ctx = ctx};

    if (!store || !model || !fn || (n_runs && !run_ids))
        return bad_args("bf_store_each_head_size");
    return each_row(store, "reading head sizes", HEAD_SIZES_SQL, run_ids,
                    n_runs, model, head_row, &w);
}

static int text_row(struct bf_store *store, sqlite3_stmt *st,
                    const struct walk *w)
{
    const char *text = column_text(st, 1);

    (void)store;
    return text[0] ? w->fn.text(column_text(st, 0), text, w->ctx) : 0;
}

int bf_store_each_figure_text(
    struct bf_store *store, enum bf_store_figure_text what,
    const int64_t *run_ids, size_t n_runs, const char *model,
    int (*fn)(const char *device, const char *text, void *ctx), void *ctx)
{
    struct walk w = {.fn.text = fn, .ctx = ctx};

    if (!store || !model || !fn || (n_runs && !run_ids) ||
        (unsigned)what >= sizeof(text_sql) / sizeof(text_sql[0]))
        return bad_args("bf_store_each_figure_text");
    return each_row(store, "reading caption details", text_sql[what], run_ids,
                    n_runs, model, text_row, &w);
}

/* Intervals of timed stages */

int bf_store_p50_interval(struct bf_store *store, const int64_t *case_ids,
                          size_t n_cases, const char *metric, double *lo,
                          double *hi, size_t *n_samples)
{
    double *pool = NULL, *s = NULL;
    size_t n = 0;
    int rc = 0;

    if (!store || !case_ids || n_cases == 0 || !metric || !lo || !hi)
        return bad_args("bf_store_p50_interval");
    for (size_t i = 0; rc == 0 && i < n_cases; i++) {
        size_t k = 0;

        rc = bf_store_case_samples(store, case_ids[i], metric, &s, &k);
        if (rc == 0 && pool == NULL) {
            pool = s; /* the first case's samples: the pool itself */
            n = k;
            s = NULL;
        } else if (rc == 0 && k > 0) {
            double *grown = realloc(pool, (n + k) * sizeof(*grown));

            if (!grown) {
                rc = bf_err_set(BF_ENOMEM, "%zu samples", n + k);
            } else {
                pool = grown;
                memcpy(pool + n, s, k * sizeof(*s));
                n += k;
            }
        }
        free(s);
        s = NULL;
    }
    if (rc)
        goto out;
    if (n < BF_STORE_P50_MIN_SAMPLES) {
        *lo = *hi = NAN;
    } else {
        double iters = fmin(BF_STORE_P50_BOOTSTRAP_ITERS,
                            BF_STORE_P50_BOOTSTRAP_DRAWS / (double)n);
        double l, h;

        rc = bf_stats_bootstrap_percentile(
            pool, n, 50,
            (unsigned)fmax(iters, BF_STORE_P50_BOOTSTRAP_MIN_ITERS),
            (uint64_t)case_ids[0], 0.95, &l, &h);
        if (rc)
            goto out;
        *lo = l;
        *hi = h;
    }
    if (n_samples)
        *n_samples = n;
out:
    free(pool);
    return rc;
}
