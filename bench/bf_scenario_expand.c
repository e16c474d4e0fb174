/*
 * bf_scenario_expand.c: parsed values -> struct bf_scenario and its cases.
 * Every value is stored where its key's table row says (the row's storage);
 * the expanding lists of the task, in its order, multiply into the cases,
 * each with its hash; the settings hash covers the other keys.
 */
#include "bf_scenario_int.h"

#include "bf_buf.h"
#include "bf_hash.h"

#include <stdint.h>

static const struct bf_scenario_key *const keys = bf__scenario_key_table;

/* The text a TEXT field receives: PATH, DIR: the resolved path or "". */
static const char *stored_text(const struct bf_scenario_key *key,
                               const struct value *v)
{
    if (key->type == BF_KEY_PATH || key->type == BF_KEY_DIR)
        return v->path ? v->path : "";
    return v->s;
}

/*
 * Store value v of key into its field in base: a struct bf_case for a key
 * that expands into cases, a struct bf_scenario for the others.
 */
static void store_one(void *base, const struct bf_scenario_key *key,
                      const struct value *v)
{
    char *field = (char *)base + key->offset;

    switch (key->store) {
    case BF_KEY_STORE_INT:
        *(int *)field = (int)v->i;
        break;
    case BF_KEY_STORE_INT64:
        *(int64_t *)field = (int64_t)v->i;
        break;
    case BF_KEY_STORE_UINT64:
        *(uint64_t *)field = (uint64_t)v->i;
        break;
    case BF_KEY_STORE_DOUBLE:
        *(double *)field = v->f;
        break;
    case BF_KEY_STORE_TEXT:
        copy_str(field, key->size, stored_text(key, v));
        break;
    default:
        assert(0 && "a key without one-value storage");
    }
}

/* Store the values of value list key from slot s into sc, and their count. */
static void store_list(struct bf_scenario *sc,
                       const struct bf_scenario_key *key, const struct slot *s)
{
    char *field = (char *)sc + key->offset;
    size_t n = 0;

    assert(s->n <= BF_SCENARIO_VALUES_MAX);
    for (size_t i = 0; i < s->n; i++) {
        switch (key->store) {
        case BF_KEY_STORE_INTS:
            ((int *)field)[n++] = (int)s->v[i].i;
            break;
        case BF_KEY_STORE_DOUBLES:
            ((double *)field)[n++] = s->v[i].f;
            break;
        case BF_KEY_STORE_TEXTS:
            /* "none" stands for no entry (a list is never empty). */
            if (strcmp(s->v[i].s, "none") != 0)
                copy_str(field + BF_SCENARIO_NAME_MAX * n++,
                         BF_SCENARIO_NAME_MAX, s->v[i].s);
            break;
        default:
            assert(0 && "a value list without list storage");
        }
    }
    *(size_t *)((char *)sc + key->count_offset) = n;
}

void bf__scenario_fill(const struct parse *p, struct bf_scenario *sc)
{
    const char *name = named_slot(p, K_NAME)->v[0].s;

    for (size_t k = 0; k < bf__scenario_key_count; k++) {
        const struct bf_scenario_key *key = &keys[k];

        assert(key->store != BF_KEY_STORE_NONE);
        if (key->is_list == BF_KEY_LIST_VALUES)
            store_list(sc, key, &p->slots[k]);
        else if (key->is_list == BF_KEY_SCALAR &&
                 key->store != BF_KEY_STORE_HOOK)
            store_one(sc, key, &p->slots[k].v[0]);
    }
    /* The hooks; the expanding lists and weights go to the cases. */
    if (name[0])
        copy_str(sc->name, sizeof(sc->name), name);
    else
        bf__scenario_default_name(sc->name, sizeof(sc->name), p->file);
    sc->task = bf__scenario_task(p);
}

static const char *weights_for(const struct parse *p, const char *model)
{
    const struct slot *s = named_slot(p, K_WEIGHTS);
    size_t i;

    for (i = 0; i < s->n; i++)
        if (strcmp(s->v[i].s, model) == 0)
            return s->v[i].path;
    return "";
}

/* The expanding lists of the train task, slowest first. */
static const enum key_id train_order[] = {K_MODELS,
                                          K_SEEDS,
                                          K_STRATEGIES,
                                          K_BOTTLENECK_VERSION,
                                          K_BOTTLENECK_CHANNELS,
                                          K_FREEZE_ENCODER};

/*
 * The expanding lists of the task, slowest first, into order; returns
 * their count. Inference: the key table's order.
 */
static size_t expansion_order(const struct parse *p, enum bf_task task,
                              int order[KEYS_MAX])
{
    size_t n = 0;
    int k;

    if (task == BF_TASK_TRAIN) {
        for (; n < sizeof(train_order) / sizeof(train_order[0]); n++)
            order[n] = p->k[train_order[n]];
        return n;
    }
    for (k = 0; k < (int)bf__scenario_key_count; k++)
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
    for (int k = 0; rc == 0 && k < (int)bf__scenario_key_count; k++) {
        int expands = 0;

        for (size_t i = 0; i < n_order; i++)
            expands |= order[i] == k;
        /* How often a case is measured does not change what it is. */
        if (k == p->k[K_NAME] || k == p->k[K_REPETITIONS] || expands ||
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
static int ignores(const struct parse *p, enum bf_task task, const char *config,
                   int k)
{
    int no_bottleneck =
        k == p->k[K_BOTTLENECK_CHANNELS] || k == p->k[K_BOTTLENECK_VERSION];

    if (task != BF_TASK_INFERENCE)
        return 0;
    if (strcmp(config, "local") == 0)
        return no_bottleneck || k == p->k[K_LINK_RATE_MBPS] ||
               k == p->k[K_BACKGROUND_CLIENTS];
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
    int order[KEYS_MAX];
    size_t n_order = expansion_order(p, bf__scenario_task(p), order);
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
        size_t idx[KEYS_MAX];
        size_t rest = c;
        int dup = 0;

        for (k = 0; k < (int)bf__scenario_key_count; k++)
            if (keys[k].is_list == BF_KEY_LIST_CASES &&
                bf__scenario_applies(&keys[k], TASK_INFERENCE))
                store_one(bc, &keys[k], &p->slots[k].v[0]);
        bc->seed = (uint64_t)named_slot(p, K_SEED)->v[0].i;
        for (i = n_order; i-- > 0;) {
            const struct slot *s = &p->slots[order[i]];

            idx[i] = rest % s->n;
            store_one(bc, &keys[order[i]], &s->v[idx[i]]);
            rest /= s->n;
        }
        /* A key the configuration ignores keeps its first value only. */
        for (i = 0; i < n_order; i++)
            dup |= idx[i] > 0 && ignores(p, sc->task, bc->config, order[i]);
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
         * were), nor `precision` fp32 (its default: hashes from before
         * the key stay, spelled out or not). */
        for (i = 0; rc == 0 && i < n_order; i++) {
            if (ignores(p, sc->task, bc->config, order[i]) ||
                (order[i] == p->k[K_SEEDS] &&
                 !named_slot(p, K_SEEDS)->key_node) ||
                (order[i] == p->k[K_PRECISION] &&
                 strcmp(p->slots[order[i]].v[idx[i]].s, "fp32") == 0))
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
