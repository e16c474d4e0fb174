/*
 * bf_scenario_expand.c: parsed values -> struct bf_scenario and its cases.
 * Every value is stored in its field; the expanding lists of the task, in its
 * order, multiply into the cases, each with its hash; the settings hash covers
 * the other keys.
 */
#include "bf_scenario_int.h"

#include "bf_buf.h"
#include "bf_hash.h"

#include <stdint.h>

static const struct bf_scenario_key *const keys = bf__scenario_key_table;

/* Set the field of a case that list key k expands into. */
static void case_set(struct bf_case *c, int k, const struct value *v)
{
    switch (k) {
    case K_CONFIGS:
        copy_str(c->config, sizeof(c->config), v->s);
        break;
    case K_MODELS:
        copy_str(c->model, sizeof(c->model), v->s);
        break;
    case K_INPUT_SIZE_PX:
        c->input_size_px = (int)v->i;
        break;
    case K_BATCH:
        c->batch = (int)v->i;
        break;
    case K_THREADS:
        c->threads = (int)v->i;
        break;
    case K_FOLD_BN:
        c->fold_bn = (int)v->i;
        break;
    case K_CHANNELS_LAST:
        c->channels_last = (int)v->i;
        break;
    case K_STRATEGIES:
        copy_str(c->strategy, sizeof(c->strategy), v->s);
        break;
    case K_FREEZE_ENCODER:
        c->freeze_encoder = (int)v->i;
        break;
    case K_BOTTLENECK_CHANNELS:
        c->bottleneck_channels = (int)v->i;
        break;
    case K_BOTTLENECK_VERSION:
        c->bottleneck_version = (int)v->i;
        break;
    case K_LINK_RATE_MBPS:
        c->link_rate_mbps = v->f;
        break;
    case K_BACKGROUND_CLIENTS:
        c->background_clients = (int)v->i;
        break;
    case K_SEEDS:
        c->seed = (uint64_t)v->i;
        break;
    default:
        assert(0 && "list key without a case field");
    }
}

static const char *weights_for(const struct parse *p, const char *model)
{
    const struct slot *s = &p->slots[K_WEIGHTS];
    size_t i;

    for (i = 0; i < s->n; i++)
        if (strcmp(s->v[i].s, model) == 0)
            return s->v[i].path;
    return "";
}

/* The expanding lists of the train task, slowest first. */
static const int train_order[] = {K_MODELS,
                                  K_SEEDS,
                                  K_STRATEGIES,
                                  K_BOTTLENECK_VERSION,
                                  K_BOTTLENECK_CHANNELS,
                                  K_FREEZE_ENCODER};

/*
 * The expanding lists of the task, slowest first, into order; returns
 * their count. Inference: the key table's order.
 */
static size_t expansion_order(enum bf_task task, int order[K_COUNT])
{
    size_t n = 0;
    int k;

    if (task == BF_TASK_TRAIN) {
        memcpy(order, train_order, sizeof(train_order));
        return sizeof(train_order) / sizeof(train_order[0]);
    }
    for (k = 0; k < K_COUNT; k++)
        if (keys[k].is_list == BF_KEY_LIST_CASES &&
            bf__scenario_applies(&keys[k], TASK_INFERENCE))
            order[n++] = k;
    return n;
}

/* Append "value" of key k as the hashes read it. */
static int value_text(struct bf_buf *out, int k, const struct value *v)
{
    switch (keys[k].type) {
    case BF_KEY_INT:
    case BF_KEY_BOOL:
        return bf_buf_printf(out, "%lld", v->i);
    case BF_KEY_FLOAT:
        return bf_buf_printf(out, "%.17g", v->f);
    case BF_KEY_WEIGHTS: {
        /* The file's contents, not its path: the same weights give the
         * same case hash wherever the checkout is and however the scenario
         * was named (a path that cannot be read keeps its resolved path,
         * and loading it fails later with its own error). */
        char sha[BF_HASH_HEX_SIZE];

        if (v->path && bf_hash_file(v->path, sha) == 0)
            return bf_buf_printf(out, "%s:sha256:%s", v->s, sha);
        bf_err_clear();
        return bf_buf_printf(out, "%s:%s", v->s, v->path ? v->path : "");
    }
    default:
        return bf_buf_printf(out, "%s", v->s ? v->s : "");
    }
}

/* Append "key=v1,v2\n" for slot s of key k. */
static int slot_text(struct bf_buf *out, int k, const struct slot *s)
{
    int rc = bf_buf_printf(out, "%s=", keys[k].name);

    for (size_t i = 0; rc == 0 && i < s->n; i++) {
        if (i)
            rc = bf_buf_printf(out, ",");
        if (rc == 0)
            rc = value_text(out, k, &s->v[i]);
    }
    return rc ? rc : bf_buf_printf(out, "\n");
}

/* Nonzero when key k was given in the file with a non-default value. */
static int differs_from_default(const struct parse *p, int k)
{
    struct parse tmp = *p;
    struct bf_buf given, def;
    int differs = 1;

    if (!p->slots[k].key_node)
        return 0;
    if (keys[k].type == BF_KEY_WEIGHTS)
        return p->slots[k].n > 0;
    memset(&tmp.slots[k], 0, sizeof(tmp.slots[k]));
    bf_buf_init(&given);
    bf_buf_init(&def);
    if (bf__scenario_parse_default(&tmp, k) == 0 &&
        slot_text(&given, k, &p->slots[k]) == 0 &&
        slot_text(&def, k, &tmp.slots[k]) == 0)
        differs = strcmp(bf_buf_str(&given), bf_buf_str(&def)) != 0;
    for (size_t i = 0; i < tmp.slots[k].n; i++) {
        free(tmp.slots[k].v[i].s);
        free(tmp.slots[k].v[i].path);
    }
    free(tmp.slots[k].v);
    bf_buf_free(&given);
    bf_buf_free(&def);
    return differs;
}

/* sc->settings_hash from the keys that are not in order[]. */
static int settings_hash(const struct parse *p, const int *order,
                         size_t n_order, struct bf_scenario *sc)
{
    struct bf_buf text;
    int rc = 0;

    bf_buf_init(&text);
    for (int k = 0; rc == 0 && k < K_COUNT; k++) {
        int expands = 0;

        for (size_t i = 0; i < n_order; i++)
            expands |= order[i] == k;
        /* How often a case is measured does not change what it is. */
        if (k == K_NAME || k == K_REPETITIONS || expands ||
            !differs_from_default(p, k))
            continue;
        rc = slot_text(&text, k, &p->slots[k]);
    }
    if (rc == 0)
        bf_hash_buffer(text.data ? text.data : "", text.len, sc->settings_hash);
    bf_buf_free(&text);
    return rc ? bf_err_set(BF_ENOMEM, "%s: out of memory", p->file) : 0;
}

void bf_scenario_extra_case_hash(const struct bf_scenario *scenario,
                                 const char *kind, const char *model,
                                 char out[BF_HASH_HEX_SIZE])
{
    struct bf_sha256 ctx;

    bf_sha256_init(&ctx);
    bf_sha256_update(&ctx, scenario->settings_hash,
                     strlen(scenario->settings_hash));
    bf_sha256_update(&ctx, "\nextra=", 7);
    bf_sha256_update(&ctx, kind, strlen(kind));
    bf_sha256_update(&ctx, "\nmodel=", 7);
    bf_sha256_update(&ctx, model, strlen(model));
    bf_sha256_final(&ctx, out);
}

/*
 * Nonzero when an inference configuration does not use list key k: local
 * sends nothing (no link, no server, no bottleneck); edge sends JPEG and
 * spinn-split the teacher's own split tensor (no bottleneck).
 */
static int ignores(enum bf_task task, const char *config, int k)
{
    int no_bottleneck = k == K_BOTTLENECK_CHANNELS || k == K_BOTTLENECK_VERSION;

    if (task != BF_TASK_INFERENCE)
        return 0;
    if (strcmp(config, "local") == 0)
        return no_bottleneck || k == K_LINK_RATE_MBPS ||
               k == K_BACKGROUND_CLIENTS;
    if (strcmp(config, "edge") == 0 || strcmp(config, "spinn-split") == 0)
        return no_bottleneck;
    return 0;
}

/*
 * Expand the task's lists into sc->cases, the last varying fastest. The
 * inference list keys take their single (default) value in a train case;
 * the train list keys are left ""/0 in an inference case.
 */
int bf__scenario_expand(const struct parse *p, struct bf_scenario *sc)
{
    int order[K_COUNT];
    size_t n_order = expansion_order(bf__scenario_task(p), order);
    size_t total = 1, n = 0;
    struct bf_buf point;
    size_t c, i;
    int k, rc;

    for (i = 0; i < n_order; i++) {
        if (p->slots[order[i]].n > BF_SCENARIO_CASES_MAX / total)
            return at_error(p, BF_ERANGE, p->root_mark, NULL,
                            "the lists expand into more than %d cases",
                            BF_SCENARIO_CASES_MAX);
        total *= p->slots[order[i]].n;
    }
    if ((rc = settings_hash(p, order, n_order, sc)))
        return rc;
    sc->cases = calloc(total, sizeof(*sc->cases));
    if (!sc->cases)
        return bf_err_set(BF_ENOMEM, "%s: out of memory", p->file);
    bf_buf_init(&point);
    for (c = 0; rc == 0 && c < total; c++) {
        struct bf_case *bc = &sc->cases[n];
        size_t idx[K_COUNT];
        size_t rest = c;
        int dup = 0;

        for (k = 0; k < K_COUNT; k++)
            if (keys[k].is_list == BF_KEY_LIST_CASES &&
                bf__scenario_applies(&keys[k], TASK_INFERENCE))
                case_set(bc, k, &p->slots[k].v[0]);
        bc->seed = (uint64_t)p->slots[K_SEED].v[0].i;
        for (i = n_order; i-- > 0;) {
            const struct slot *s = &p->slots[order[i]];

            idx[i] = rest % s->n;
            case_set(bc, order[i], &s->v[idx[i]]);
            rest /= s->n;
        }
        /* A key the configuration ignores keeps its first value only. */
        for (i = 0; i < n_order; i++)
            dup |= idx[i] > 0 && ignores(sc->task, bc->config, order[i]);
        if (dup) {
            memset(bc, 0, sizeof(*bc));
            continue;
        }
        bc->index = (int)n;
        bf_buf_reset(&point);
        rc = bf_buf_printf(&point, "%s\n", sc->settings_hash);
        /* The point, slowest key first, without the ignored keys, nor
         * `seeds` left out of the file (its default is `seed`, in the
         * settings: hashes of scenarios without `seeds` stay as they
         * were). */
        for (i = 0; rc == 0 && i < n_order; i++) {
            if (ignores(sc->task, bc->config, order[i]) ||
                (order[i] == K_SEEDS && !p->slots[K_SEEDS].key_node))
                continue;
            rc = bf_buf_printf(&point, "%s=", keys[order[i]].name);
            if (rc == 0)
                rc =
                    value_text(&point, order[i], &p->slots[order[i]].v[idx[i]]);
            if (rc == 0)
                rc = bf_buf_printf(&point, "\n");
        }
        if (rc == 0)
            bf_hash_buffer(point.data, point.len, bc->hash);
        copy_str(bc->weights, sizeof(bc->weights), weights_for(p, bc->model));
        n++;
    }
    bf_buf_free(&point);
    if (rc)
        return bf_err_set(BF_ENOMEM, "%s: out of memory", p->file);
    sc->n_cases = n;
    return 0;
}

/* The scenario file's base name without its extension, truncated. */
void bf__scenario_default_name(char *out, size_t size, const char *file)
{
    const char *base = strrchr(file, '/');
    const char *dot;
    size_t len;

    base = base ? base + 1 : file;
    dot = strrchr(base, '.');
    len = dot && dot != base ? (size_t)(dot - base) : strlen(base);
    if (len >= size)
        len = size - 1;
    memcpy(out, base, len);
    out[len] = '\0';
}

void bf__scenario_fill(const struct parse *p, struct bf_scenario *sc)
{
    const char *name = p->slots[K_NAME].v[0].s;
    const struct slot *q;
    const char *dir;
    size_t i;

    if (name[0])
        copy_str(sc->name, sizeof(sc->name), name);
    else
        bf__scenario_default_name(sc->name, sizeof(sc->name), p->file);
    sc->seed = (uint64_t)p->slots[K_SEED].v[0].i;
    sc->warmup = (int)p->slots[K_WARMUP].v[0].i;
    sc->min_samples = (int)p->slots[K_MIN_SAMPLES].v[0].i;
    sc->min_duration_ms = (int64_t)p->slots[K_MIN_DURATION_MS].v[0].i;
    sc->max_samples = (int)p->slots[K_MAX_SAMPLES].v[0].i;
    sc->repetitions = (int)p->slots[K_REPETITIONS].v[0].i;

    sc->task = bf__scenario_task(p);
    copy_str(sc->dataset, sizeof(sc->dataset), p->slots[K_DATASET].v[0].s);
    dir = p->slots[K_DATA_DIR].v[0].path;
    copy_str(sc->data_dir, sizeof(sc->data_dir), dir ? dir : "");
    sc->val_fraction = p->slots[K_VAL_FRACTION].v[0].f;
    sc->train_subset = (int64_t)p->slots[K_TRAIN_SUBSET].v[0].i;
    sc->test_subset = (int64_t)p->slots[K_TEST_SUBSET].v[0].i;
    sc->teacher_epochs = (int)p->slots[K_TEACHER_EPOCHS].v[0].i;
    sc->teacher_lr = p->slots[K_TEACHER_LR].v[0].f;
    sc->teacher_batch = (int)p->slots[K_TEACHER_BATCH].v[0].i;
    sc->teacher_per_seed = (int)p->slots[K_TEACHER_PER_SEED].v[0].i;
    sc->epochs_stage1 = (int)p->slots[K_EPOCHS_STAGE1].v[0].i;
    sc->epochs_stage2 = (int)p->slots[K_EPOCHS_STAGE2].v[0].i;
    sc->epochs_baseline = (int)p->slots[K_EPOCHS_BASELINE].v[0].i;
    sc->lr_stage1 = p->slots[K_LR_STAGE1].v[0].f;
    sc->lr_stage2 = p->slots[K_LR_STAGE2].v[0].f;
    sc->lr_baseline = p->slots[K_LR_BASELINE].v[0].f;
    sc->batch_stage1 = (int)p->slots[K_BATCH_STAGE1].v[0].i;
    sc->batch_stage2 = (int)p->slots[K_BATCH_STAGE2].v[0].i;
    sc->batch_baseline = (int)p->slots[K_BATCH_BASELINE].v[0].i;
    sc->momentum = p->slots[K_MOMENTUM].v[0].f;
    sc->weight_decay_stage2 = p->slots[K_WEIGHT_DECAY_STAGE2].v[0].f;
    sc->weight_decay_baseline = p->slots[K_WEIGHT_DECAY_BASELINE].v[0].f;
    sc->lr_gamma = p->slots[K_LR_GAMMA].v[0].f;
    sc->max_batches = (int64_t)p->slots[K_MAX_BATCHES].v[0].i;
    sc->frozen_bn_train = (int)p->slots[K_FROZEN_BN_TRAIN].v[0].i;
    sc->augment = (int)p->slots[K_AUGMENT].v[0].i;
    sc->kd_temperature = p->slots[K_KD_TEMPERATURE].v[0].f;
    sc->kd_alpha = p->slots[K_KD_ALPHA].v[0].f;
    q = &p->slots[K_JPEG_QUALITIES];
    assert(q->n <= BF_SCENARIO_VALUES_MAX);
    for (i = 0; i < q->n; i++)
        sc->jpeg_qualities[i] = (int)q->v[i].i;
    sc->n_jpeg_qualities = q->n;
    sc->jpeg_reference_quality = (int)p->slots[K_JPEG_REFERENCE_QUALITY].v[0].i;
    q = &p->slots[K_EXIT_THRESHOLDS];
    assert(q->n <= BF_SCENARIO_VALUES_MAX);
    for (i = 0; i < q->n; i++)
        sc->exit_thresholds[i] = q->v[i].f;
    sc->n_exit_thresholds = q->n;
    sc->image_size_px = (int)p->slots[K_IMAGE_SIZE_PX].v[0].i;
    copy_str(sc->link, sizeof(sc->link), p->slots[K_LINK].v[0].s);
    sc->link_down_rate_mbps = p->slots[K_LINK_DOWN_RATE_MBPS].v[0].f;
    sc->link_rtt_ms = p->slots[K_LINK_RTT_MS].v[0].f;
    sc->link_jitter_ms = p->slots[K_LINK_JITTER_MS].v[0].f;
    sc->link_loss = p->slots[K_LINK_LOSS].v[0].f;
    dir = p->slots[K_LINK_TRACE].v[0].path;
    copy_str(sc->link_trace, sizeof(sc->link_trace), dir ? dir : "");
    copy_str(sc->edge_address, sizeof(sc->edge_address),
             p->slots[K_EDGE_ADDRESS].v[0].s);
    sc->edge_workers = (int)p->slots[K_EDGE_WORKERS].v[0].i;
    sc->edge_queue = (int)p->slots[K_EDGE_QUEUE].v[0].i;
    sc->edge_jpeg_quality = (int)p->slots[K_EDGE_JPEG_QUALITY].v[0].i;
    sc->zstd_payload = (int)p->slots[K_ZSTD_PAYLOAD].v[0].i;
    sc->exit_threshold = p->slots[K_EXIT_THRESHOLD].v[0].f;
    sc->request_timeout_ms = (int64_t)p->slots[K_REQUEST_TIMEOUT_MS].v[0].i;
    copy_str(sc->inputs, sizeof(sc->inputs), p->slots[K_INPUTS].v[0].s);
    q = &p->slots[K_DEVICES];
    sc->n_devices = 0;
    for (i = 0; i < q->n; i++)
        if (strcmp(q->v[i].s, "none") != 0)
            copy_str(sc->devices[sc->n_devices++], BF_SCENARIO_NAME_MAX,
                     q->v[i].s);
    q = &p->slots[K_DEVICE_OVERRIDES];
    sc->n_device_overrides = 0;
    for (i = 0; i < q->n; i++)
        if (strcmp(q->v[i].s, "none") != 0)
            copy_str(sc->device_overrides[sc->n_device_overrides++],
                     BF_SCENARIO_NAME_MAX, q->v[i].s);
    copy_str(sc->radio, sizeof(sc->radio), p->slots[K_RADIO].v[0].s);
    copy_str(sc->edge_device, sizeof(sc->edge_device),
             p->slots[K_EDGE_DEVICE].v[0].s);
    copy_str(sc->power_probe, sizeof(sc->power_probe),
             p->slots[K_POWER_PROBE].v[0].s);
    sc->power_probe_rate_hz = p->slots[K_POWER_PROBE_RATE_HZ].v[0].f;
}
