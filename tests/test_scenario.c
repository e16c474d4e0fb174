/*
 * Tests of bf_scenario: every key of both tasks, defaults, list expansion
 * and value lists, and each error class forced, with its code and its
 * "file:line:col: key" detail checked.
 * Most tests parse in-memory text named "t.yaml"; a few load the fixtures
 * in BF_FIXTURES_DIR/scenarios.
 */
#define _POSIX_C_SOURCE 200809L
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bf_err.h"
#include "bf_scenario.h"
#include "bf_shard.h"

#ifndef BF_FIXTURES_DIR
#define BF_FIXTURES_DIR "tests/fixtures"
#endif
#define SCENARIOS BF_FIXTURES_DIR "/scenarios"
#define DUMMY_BFW SCENARIOS "/dummy.bfw"
#define TRAIN_DATA SCENARIOS "/train_data"
#define STRATEGY_CHOICES                                                       \
    "naive|kd|hnd|ghnd|ghnd-ft|ghnd-kd|bottlefit|ae-split|spinn-split"

static int fake_model_exists(const char *name)
{
    static const char *const zoo[] = {"resnet18", "resnet152", "mobilenet_v2",
                                      "resnet_mini"};
    size_t i;

    for (i = 0; i < sizeof(zoo) / sizeof(zoo[0]); i++)
        if (strcmp(name, zoo[i]) == 0)
            return 1;
    return 0;
}

static const struct bf_scenario_params params = {
    .model_exists = fake_model_exists,
};

static int parse(const char *text, struct bf_scenario **out)
{
    return bf_scenario_parse("t.yaml", text, strlen(text), &params, out);
}

/* Assert that the last error detail contains needle. */
static void assert_detail_has(const char *needle)
{
    if (!strstr(bf_last_error(), needle))
        print_error("detail '%s' lacks '%s'\n", bf_last_error(), needle);
    assert_non_null(strstr(bf_last_error(), needle));
}

/*
 * Parse text, expect code, and expect the detail to contain where (the
 * "file:line:col:" prefix) and what (may be NULL).
 */
static void assert_fails(const char *text, int code, const char *where,
                         const char *what)
{
    struct bf_scenario *sc = (struct bf_scenario *)&sc;

    bf_err_clear();
    assert_int_equal(parse(text, &sc), code);
    assert_null(sc);
    assert_detail_has(where);
    if (what)
        assert_detail_has(what);
}

static struct bf_scenario *parse_ok(const char *text)
{
    struct bf_scenario *sc = NULL;
    int rc = parse(text, &sc);

    if (rc)
        print_error("unexpected error: %s\n", bf_last_error());
    assert_int_equal(rc, 0);
    assert_non_null(sc);
    return sc;
}

/* Read a whole small file into a new string; caller frees. */
static char *slurp(FILE *f)
{
    size_t cap = 1 << 16;
    char *buf = malloc(cap);
    size_t len;

    assert_non_null(buf);
    len = fread(buf, 1, cap - 1, f);
    assert_true(len < cap - 1);
    buf[len] = '\0';
    return buf;
}

/*
 * Shards: every case in exactly one shard, the same split every time,
 * balanced by cost (largest first to the least loaded), and K/N parsed
 * strictly. Costs 8, 7, 6, 5, 4, 3, 2, 1 into 3 shards: 8+3+2 = 13,
 * 7+4+1 = 12, 6+5 = 11.
 */
static void test_scenario_shards(void **state)
{
    struct bf_scenario *sc =
        parse_ok("models: [resnet18, resnet152]\nbatch: [1, 2, 3, 4]\n");
    double cost[8] = {8, 7, 6, 5, 4, 3, 2, 1};
    double load[3] = {0};
    int a[8], b[8], k = 0, n = 0;

    (void)state;
    assert_int_equal(sc->n_cases, 8);
    assert_int_equal(bf_shard_assign(sc, cost, 3, a), 0);
    assert_int_equal(bf_shard_assign(sc, cost, 3, b), 0);
    for (int i = 0; i < 8; i++) {
        assert_true(a[i] >= 0 && a[i] < 3);
        assert_int_equal(a[i], b[i]);
        load[a[i]] += cost[i];
    }
    assert_true(load[0] == 13 && load[1] == 12 && load[2] == 11);
    /* Without costs, the work factor (samples x batch): balanced too. */
    assert_int_equal(bf_shard_assign(sc, NULL, 2, a), 0);
    {
        double l[2] = {0};

        for (int i = 0; i < 8; i++)
            l[a[i]] += bf_shard_work(sc, &sc->cases[i]);
        assert_true(l[0] == l[1]);
    }
    assert_int_equal(bf_shard_assign(sc, cost, 0, a), BF_EINVAL);
    assert_int_equal(bf_shard_parse("2/3", &k, &n), 0);
    assert_true(k == 2 && n == 3);
    assert_int_equal(bf_shard_parse("0/3", &k, &n), -1);
    assert_int_equal(bf_shard_parse("4/3", &k, &n), -1);
    assert_int_equal(bf_shard_parse("1/", &k, &n), -1);
    assert_int_equal(bf_shard_parse("1/2x", &k, &n), -1);
    bf_scenario_free(sc);
}

static void test_scenario_keys_table_order(void **state)
{
    /* Name and task of every key, in table order. */
    static const char *const names[][2] = {
        {"name", "any"},
        {"seed", "any"},
        {"seeds", "any"},
        {"configs", "inference"},
        {"models", "any"},
        {"input_size_px", "inference"},
        {"batch", "inference"},
        {"threads", "any"},
        {"fold_bn", "inference"},
        {"channels_last", "inference"},
        {"precision", "inference"},
        {"warmup", "inference"},
        {"min_samples", "inference"},
        {"min_duration_ms", "inference"},
        {"max_samples", "inference"},
        {"repetitions", "inference"},
        {"weights", "any"},
        {"task", "any"},
        {"dataset", "train"},
        {"data_dir", "train"},
        {"val_fraction", "train"},
        {"train_subset", "train"},
        {"test_subset", "train"},
        {"strategies", "train"},
        {"freeze_encoder", "train"},
        {"bottleneck_channels", "any"},
        {"bottleneck_version", "any"},
        {"teacher_epochs", "train"},
        {"teacher_lr", "train"},
        {"teacher_batch", "train"},
        {"teacher_train_subset", "train"},
        {"teacher_per_seed", "train"},
        {"epochs_stage1", "train"},
        {"epochs_stage2", "train"},
        {"epochs_baseline", "train"},
        {"lr_stage1", "train"},
        {"lr_stage2", "train"},
        {"lr_baseline", "train"},
        {"batch_stage1", "train"},
        {"batch_stage2", "train"},
        {"batch_baseline", "train"},
        {"momentum", "train"},
        {"weight_decay_stage2", "train"},
        {"weight_decay_baseline", "train"},
        {"lr_gamma", "train"},
        {"max_batches", "train"},
        {"frozen_bn_train", "train"},
        {"augment", "train"},
        {"kd_temperature", "train"},
        {"kd_alpha", "train"},
        {"jpeg_qualities", "train"},
        {"jpeg_reference_quality", "train"},
        {"exit_thresholds", "train"},
        {"image_size_px", "train"},
        {"link", "inference"},
        {"link_rate_mbps", "inference"},
        {"link_down_rate_mbps", "inference"},
        {"link_rtt_ms", "inference"},
        {"link_jitter_ms", "inference"},
        {"link_loss", "inference"},
        {"link_trace", "inference"},
        {"edge_address", "inference"},
        {"edge_workers", "inference"},
        {"edge_queue", "inference"},
        {"background_clients", "inference"},
        {"edge_jpeg_quality", "inference"},
        {"zstd_payload", "inference"},
        {"exit_threshold", "inference"},
        {"request_timeout_ms", "inference"},
        {"inputs", "inference"},
        {"devices", "inference"},
        {"device_overrides", "inference"},
        {"radio", "inference"},
        {"edge_device", "inference"},
        {"power_probe", "inference"},
        {"power_probe_rate_hz", "inference"},
        {"device", "any"},
        {"train_precision", "train"},
    };
    const struct bf_scenario_key *keys;
    size_t count, i;

    (void)state;
    keys = bf_scenario_keys(&count);
    assert_int_equal(count, sizeof(names) / sizeof(names[0]));
    for (i = 0; i < count; i++) {
        assert_string_equal(keys[i].name, names[i][0]);
        assert_non_null(keys[i].task);
        assert_string_equal(keys[i].task, names[i][1]);
        assert_non_null(keys[i].help);
        assert_true(keys[i].help[0] != '\0');
        if (keys[i].is_list == BF_KEY_LIST_CASES)
            assert_true(i == 2 || i == 3 || i == 4 || (i >= 5 && i <= 10) ||
                        (i >= 23 && i <= 26) ||
                        strcmp(keys[i].name, "link_rate_mbps") == 0 ||
                        strcmp(keys[i].name, "background_clients") == 0);
        assert_int_equal(count, 78);
    }
    assert_true(keys[4].required);
    assert_int_equal(keys[4].is_list, BF_KEY_LIST_CASES);
    assert_int_equal(keys[10].type, BF_KEY_ENUM);
    assert_int_equal(keys[16].type, BF_KEY_WEIGHTS);
    assert_int_equal(keys[19].type, BF_KEY_DIR);
    assert_int_equal(keys[23].is_list, BF_KEY_LIST_CASES);
    assert_int_equal(keys[50].is_list, BF_KEY_LIST_VALUES);
    assert_int_equal(keys[51].is_list, BF_KEY_SCALAR);
    assert_int_equal(keys[52].is_list, BF_KEY_LIST_VALUES);
    assert_int_equal(keys[52].type, BF_KEY_FLOAT);
}

static void test_scenario_keys_print_golden(void **state)
{
    FILE *out = tmpfile();
    FILE *golden;
    char *got, *want;

    (void)state;
    assert_non_null(out);
    bf_scenario_keys_print(out);
    rewind(out);
    got = slurp(out);
    fclose(out);
    golden = fopen(SCENARIOS "/keys.expect", "rb");
    assert_non_null(golden);
    want = slurp(golden);
    fclose(golden);
    if (strcmp(got, want) != 0)
        print_error("got:\n%s\nwant:\n%s\n", got, want);
    assert_string_equal(got, want);
    free(got);
    free(want);
}

/* Every key of the table has storage that holds its values (a field of the
 * right type and size, not shared with another key), or is one of the keys
 * stored by code of their own: no key is added half-way. */
static void test_scenario_keys_storage(void **state)
{
    const struct bf_scenario_key *keys;
    size_t count;

    (void)state;
    keys = bf_scenario_keys(&count);
    for (size_t i = 0; i < count; i++) {
        const struct bf_scenario_key *key = &keys[i];
        int in_case = key->is_list == BF_KEY_LIST_CASES;
        size_t whole =
            in_case ? sizeof(struct bf_case) : sizeof(struct bf_scenario);
        size_t need = 1;

        if (key->store == BF_KEY_STORE_NONE)
            print_error("key '%s' has no storage\n", key->name);
        assert_int_not_equal(key->store, BF_KEY_STORE_NONE);
        if (key->store == BF_KEY_STORE_HOOK) {
            assert_true(strcmp(key->name, "name") == 0 ||
                        strcmp(key->name, "task") == 0 ||
                        strcmp(key->name, "weights") == 0);
            continue;
        }
        assert_true(key->offset + key->size <= whole);
        switch (key->type) {
        case BF_KEY_INT:
            if (key->is_list == BF_KEY_LIST_VALUES)
                assert_int_equal(key->store, BF_KEY_STORE_INTS);
            else
                assert_true(key->store == BF_KEY_STORE_INT ||
                            key->store == BF_KEY_STORE_INT64 ||
                            key->store == BF_KEY_STORE_UINT64);
            /* The range fits the field. */
            if (key->store == BF_KEY_STORE_INT ||
                key->store == BF_KEY_STORE_INTS)
                assert_true(key->min >= -2147483648.0 &&
                            key->max <= 2147483647.0);
            if (key->store == BF_KEY_STORE_UINT64)
                assert_true(key->min >= 0);
            break;
        case BF_KEY_BOOL:
            assert_int_equal(key->store, BF_KEY_STORE_INT);
            break;
        case BF_KEY_FLOAT:
            assert_int_equal(key->store, key->is_list == BF_KEY_LIST_VALUES
                                             ? BF_KEY_STORE_DOUBLES
                                             : BF_KEY_STORE_DOUBLE);
            break;
        case BF_KEY_STRING:
        case BF_KEY_MODEL:
        case BF_KEY_ENUM:
        case BF_KEY_PATH:
        case BF_KEY_DIR:
            assert_int_equal(key->store, key->is_list == BF_KEY_LIST_VALUES
                                             ? BF_KEY_STORE_TEXTS
                                             : BF_KEY_STORE_TEXT);
            /* The longest value the loader accepts fits. */
            if (key->type == BF_KEY_PATH || key->type == BF_KEY_DIR)
                need = BF_SCENARIO_PATH_MAX;
            else if (key->type != BF_KEY_ENUM)
                need = BF_SCENARIO_NAME_MAX;
            for (const char *w = key->choices; key->type == BF_KEY_ENUM;) {
                size_t len = strcspn(w, "|");

                need = len + 1 > need ? len + 1 : need;
                if (!w[len])
                    break;
                w += len + 1;
            }
            if (key->store == BF_KEY_STORE_TEXT)
                assert_true(key->size >= need);
            else
                assert_true(need <= BF_SCENARIO_NAME_MAX);
            break;
        case BF_KEY_WEIGHTS:
            fail_msg("key '%s': a mapping is stored by a hook", key->name);
        }
        if (key->is_list == BF_KEY_LIST_VALUES) {
            assert_true(key->store == BF_KEY_STORE_INTS ||
                        key->store == BF_KEY_STORE_DOUBLES ||
                        key->store == BF_KEY_STORE_TEXTS);
            assert_true(key->size == BF_SCENARIO_VALUES_MAX *
                                         (key->store == BF_KEY_STORE_INTS
                                              ? sizeof(int)
                                          : key->store == BF_KEY_STORE_DOUBLES
                                              ? sizeof(double)
                                              : BF_SCENARIO_NAME_MAX));
            assert_true(key->count_offset + sizeof(size_t) <=
                        sizeof(struct bf_scenario));
        }
        /* No two keys store into the same bytes. */
        for (size_t j = 0; j < i; j++) {
            const struct bf_scenario_key *o = &keys[j];

            if (o->store == BF_KEY_STORE_HOOK ||
                (o->is_list == BF_KEY_LIST_CASES) != in_case)
                continue;
            if (key->offset < o->offset + o->size &&
                o->offset < key->offset + key->size)
                print_error("keys '%s' and '%s' share storage\n", o->name,
                            key->name);
            assert_false(key->offset < o->offset + o->size &&
                         o->offset < key->offset + key->size);
        }
    }
}

static void test_scenario_every_key_file(void **state)
{
    struct bf_scenario *sc = NULL;
    const struct bf_case *c;

    (void)state;
    assert_int_equal(bf_scenario_load(SCENARIOS "/good.yaml", &params, &sc), 0);
    assert_string_equal(sc->path, SCENARIOS "/good.yaml");
    assert_string_equal(sc->name, "every-key");
    assert_int_equal(sc->seed, 42);
    assert_int_equal(sc->warmup, 3);
    assert_int_equal(sc->min_samples, 10);
    assert_int_equal(sc->min_duration_ms, 500);
    assert_int_equal(sc->max_samples, 1000);
    assert_non_null(sc->text);
    assert_true(sc->text_len > 0);
    assert_int_equal(strlen(sc->text), sc->text_len);
    assert_non_null(strstr(sc->text, "name: every-key"));

    /* 1 config x 2 models x 2 sizes x 2 batches x 1 x 2 fold_bn x 1. */
    assert_int_equal(sc->n_cases, 16);
    c = &sc->cases[0];
    assert_int_equal(c->index, 0);
    assert_string_equal(c->config, "local");
    assert_string_equal(c->model, "resnet18");
    assert_int_equal(c->input_size_px, 0);
    assert_int_equal(c->batch, 1);
    assert_int_equal(c->threads, 4);
    assert_int_equal(c->fold_bn, 1);
    assert_int_equal(c->channels_last, 0);
    assert_string_equal(c->weights, DUMMY_BFW);
    /* fold_bn varies fastest, then batch, input size, model. */
    assert_int_equal(sc->cases[1].fold_bn, 0);
    assert_int_equal(sc->cases[1].batch, 1);
    assert_int_equal(sc->cases[2].batch, 8);
    assert_int_equal(sc->cases[2].fold_bn, 1);
    assert_int_equal(sc->cases[4].input_size_px, 224);
    assert_int_equal(sc->cases[4].batch, 1);
    c = &sc->cases[15];
    assert_int_equal(c->index, 15);
    assert_string_equal(c->model, "mobilenet_v2");
    assert_int_equal(c->input_size_px, 224);
    assert_int_equal(c->batch, 8);
    assert_int_equal(c->fold_bn, 0);
    assert_string_equal(c->weights, "");
    assert_string_equal(sc->cases[7].model, "resnet18");
    assert_string_equal(sc->cases[8].model, "mobilenet_v2");
    bf_scenario_free(sc);
}

static void test_scenario_defaults(void **state)
{
    struct bf_scenario *sc;
    const struct bf_case *c;

    (void)state;
    sc = parse_ok("models: resnet18\n");
    assert_string_equal(sc->path, "t.yaml");
    assert_string_equal(sc->name, "t");
    assert_int_equal(sc->seed, 1);
    assert_int_equal(sc->warmup, 5);
    assert_int_equal(sc->min_samples, 30);
    assert_int_equal(sc->min_duration_ms, 2000);
    assert_int_equal(sc->max_samples, 100000);
    assert_int_equal(sc->n_cases, 1);
    c = &sc->cases[0];
    assert_int_equal(c->index, 0);
    assert_string_equal(c->config, "local");
    assert_string_equal(c->model, "resnet18");
    assert_int_equal(c->input_size_px, 0);
    assert_int_equal(c->batch, 1);
    assert_int_equal(c->threads, 0);
    assert_int_equal(c->fold_bn, 1);
    assert_int_equal(c->channels_last, 0);
    assert_string_equal(c->weights, "");
    /* An inference case leaves the training fields empty; the bottleneck
     * keys apply to both tasks. */
    assert_int_equal(sc->task, BF_TASK_INFERENCE);
    assert_string_equal(c->strategy, "");
    assert_int_equal(c->freeze_encoder, 0);
    assert_int_equal(c->bottleneck_channels, 3);
    assert_int_equal(c->bottleneck_version, 2);
    /* Network defaults. */
    assert_string_equal(sc->link, "ideal");
    assert_float_equal(c->link_rate_mbps, 20.0, 0);
    assert_float_equal(sc->link_rtt_ms, 20.0, 0);
    assert_int_equal(sc->edge_workers, 1);
    assert_int_equal(sc->edge_queue, 16);
    assert_int_equal(c->background_clients, 0);
    assert_int_equal(sc->edge_jpeg_quality, 90);
    assert_float_equal(sc->exit_threshold, 0.9, 0);
    assert_string_equal(sc->inputs, "synthetic");
    assert_string_equal(sc->text, "models: resnet18\n");
    assert_int_equal(sc->text_len, strlen("models: resnet18\n"));
    bf_scenario_free(sc);
}

static void test_scenario_default_name_from_file(void **state)
{
    struct bf_scenario *sc = NULL;
    const char *text = "models: resnet18\nname: \"\"\n";

    (void)state;
    assert_int_equal(bf_scenario_load(SCENARIOS "/minimal.yaml", &params, &sc),
                     0);
    assert_string_equal(sc->name, "minimal");
    assert_string_equal(sc->cases[0].model, "resnet_mini");
    bf_scenario_free(sc);

    assert_int_equal(bf_scenario_parse("dir/sub/my.scen.yaml", text,
                                       strlen(text), &params, &sc),
                     0);
    assert_string_equal(sc->name, "my.scen");
    bf_scenario_free(sc);
}

static void test_scenario_scalar_vs_list(void **state)
{
    static const char *const texts[] = {
        "models: resnet18\nbatch: 8\n",
        "models: [resnet18]\nbatch: [8]\n",
        "models:\n  - resnet18\nbatch:\n  - 8\n",
    };
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
        struct bf_scenario *sc = parse_ok(texts[i]);

        assert_int_equal(sc->n_cases, 1);
        assert_string_equal(sc->cases[0].model, "resnet18");
        assert_int_equal(sc->cases[0].batch, 8);
        bf_scenario_free(sc);
    }
}

static void test_scenario_matrix_order(void **state)
{
    struct bf_scenario *sc;
    size_t i;

    (void)state;
    sc = parse_ok("channels_last: [false, true]\n"
                  "threads: [1, 2, 4]\n"
                  "models: [resnet152, resnet18]\n");
    assert_int_equal(sc->n_cases, 12);
    for (i = 0; i < sc->n_cases; i++) {
        const struct bf_case *c = &sc->cases[i];

        assert_int_equal(c->index, (int)i);
        assert_string_equal(c->model, i < 6 ? "resnet152" : "resnet18");
        assert_int_equal(c->threads, 1 << ((i / 2) % 3));
        assert_int_equal(c->channels_last, (int)(i % 2));
    }
    bf_scenario_free(sc);
}

static void test_scenario_bool_spellings(void **state)
{
    struct bf_scenario *sc;

    (void)state;
    sc = parse_ok("models: resnet18\nfold_bn: [FALSE, True]\n"
                  "channels_last: TRUE\n");
    assert_int_equal(sc->n_cases, 2);
    assert_int_equal(sc->cases[0].fold_bn, 0);
    assert_int_equal(sc->cases[1].fold_bn, 1);
    assert_int_equal(sc->cases[0].channels_last, 1);
    bf_scenario_free(sc);
    assert_fails("models: resnet18\nfold_bn: yes\n", BF_EPARSE,
                 "t.yaml:2:10: key 'fold_bn'", "expected true or false");
    assert_fails("models: resnet18\nchannels_last: \"true\"\n", BF_EPARSE,
                 "t.yaml:2:16: key 'channels_last'", "quoted");
}

static void test_scenario_range_limits(void **state)
{
    struct bf_scenario *sc;

    (void)state;
    sc = parse_ok("models: resnet18\nseed: 9007199254740991\n"
                  "input_size_px: [0, 4096]\nbatch: 1024\nthreads: 256\n"
                  "warmup: 0\nmin_duration_ms: 86400000\n"
                  "min_samples: 1\nmax_samples: 1\n");
    assert_int_equal(sc->seed, 9007199254740991ULL);
    assert_int_equal(sc->cases[1].input_size_px, 4096);
    assert_int_equal(sc->cases[0].batch, 1024);
    assert_int_equal(sc->cases[0].threads, 256);
    assert_int_equal(sc->min_duration_ms, 86400000);
    assert_int_equal(sc->max_samples, 1);
    bf_scenario_free(sc);
}

static void test_scenario_weights_absolute(void **state)
{
    struct bf_scenario *sc;

    (void)state;
    sc = parse_ok("models: [resnet18, resnet152]\n"
                  "weights:\n  resnet152: " DUMMY_BFW "\n");
    assert_int_equal(sc->n_cases, 2);
    assert_string_equal(sc->cases[0].weights, "");
    assert_string_equal(sc->cases[1].weights, DUMMY_BFW);
    bf_scenario_free(sc);
    sc = parse_ok("weights: {}\nmodels: resnet18\n");
    assert_string_equal(sc->cases[0].weights, "");
    bf_scenario_free(sc);
}

static void test_scenario_train_every_key_file(void **state)
{
    static const char *const strategies[] = {"naive", "ghnd-kd", "bottlefit"};
    static const char *const models[] = {"resnet_mini", "resnet18"};
    static const int versions[] = {2, 1};
    static const int channels[] = {2, 12};
    static const int qualities[] = {95, 50, 10};
    struct bf_scenario *sc = NULL;
    size_t i;

    (void)state;
    assert_int_equal(bf_scenario_load(SCENARIOS "/train.yaml", &params, &sc),
                     0);
    assert_string_equal(sc->name, "every-train-key");
    assert_int_equal(sc->seed, 7);
    assert_int_equal(sc->task, BF_TASK_TRAIN);
    assert_string_equal(sc->dataset, "idx");
    assert_string_equal(sc->data_dir, TRAIN_DATA);
    assert_true(sc->val_fraction == 0.2);
    assert_int_equal(sc->train_subset, 5000);
    assert_int_equal(sc->test_subset, 1000);
    assert_int_equal(sc->teacher_epochs, 3);
    assert_true(sc->teacher_lr == 0.05);
    assert_int_equal(sc->teacher_batch, 64);
    assert_int_equal(sc->epochs_stage1, 4);
    assert_int_equal(sc->epochs_stage2, 5);
    assert_int_equal(sc->epochs_baseline, 6);
    assert_int_equal(sc->max_batches, 100);
    assert_int_equal(sc->frozen_bn_train, 0);
    assert_int_equal(sc->augment, 0);
    assert_true(sc->kd_temperature == 4.0);
    assert_true(sc->kd_alpha == 0.9);
    /* The value list stays a list, in file order, and does not expand. */
    assert_int_equal(sc->n_jpeg_qualities, 3);
    for (i = 0; i < 3; i++)
        assert_int_equal(sc->jpeg_qualities[i], qualities[i]);
    assert_int_equal(sc->jpeg_reference_quality, 95);
    assert_true(sc->lr_stage1 == 0.002 && sc->lr_stage2 == 0.01 &&
                sc->lr_baseline == 0.005);
    assert_true(sc->batch_stage1 == 16 && sc->batch_stage2 == 48 &&
                sc->batch_baseline == 8);
    assert_true(sc->momentum == 0.8 && sc->weight_decay_stage2 == 0.001 &&
                sc->weight_decay_baseline == 0 && sc->lr_gamma == 0.5);
    assert_int_equal(sc->n_exit_thresholds, 2);
    assert_true(sc->exit_thresholds[0] == 0.95 &&
                sc->exit_thresholds[1] == 0.5);
    /* Inference settings keep their defaults. */
    assert_int_equal(sc->warmup, 5);
    assert_int_equal(sc->min_samples, 30);

    /* models x strategies x bottleneck_version x bottleneck_channels x
     * freeze_encoder, the last fastest. */
    assert_int_equal(sc->n_cases, 2 * 3 * 2 * 2 * 2);
    for (i = 0; i < sc->n_cases; i++) {
        const struct bf_case *c = &sc->cases[i];

        assert_int_equal(c->index, (int)i);
        assert_string_equal(c->model, models[i / 24]);
        assert_string_equal(c->strategy, strategies[(i / 8) % 3]);
        assert_int_equal(c->bottleneck_version, versions[(i / 4) % 2]);
        assert_int_equal(c->bottleneck_channels, channels[(i / 2) % 2]);
        assert_int_equal(c->freeze_encoder, i % 2 == 0);
        assert_string_equal(c->weights, i < 24 ? "" : DUMMY_BFW);
        /* Inference fields hold their defaults and do not expand. */
        assert_string_equal(c->config, "local");
        assert_int_equal(c->input_size_px, 0);
        assert_int_equal(c->batch, 1);
        assert_int_equal(c->threads, 0);
        assert_int_equal(c->fold_bn, 1);
        assert_int_equal(c->channels_last, 0);
    }
    bf_scenario_free(sc);
}

static void test_scenario_train_defaults(void **state)
{
    static const int qualities[] = {10, 20, 30, 40, 50, 60, 70, 80, 90, 95};
    struct bf_scenario *sc;
    const struct bf_case *c;
    size_t i;

    (void)state;
    sc = parse_ok("task: train\nmodels: resnet_mini\n");
    assert_int_equal(sc->task, BF_TASK_TRAIN);
    assert_string_equal(sc->dataset, "fashion-mnist");
    assert_string_equal(sc->data_dir, "");
    assert_true(sc->val_fraction == 0.1);
    assert_int_equal(sc->train_subset, 0);
    assert_int_equal(sc->test_subset, 0);
    assert_int_equal(sc->teacher_epochs, 15);
    assert_true(sc->teacher_lr == 0.1);
    assert_int_equal(sc->teacher_batch, 128);
    assert_int_equal(sc->epochs_stage1, 10);
    assert_int_equal(sc->epochs_stage2, 10);
    assert_int_equal(sc->epochs_baseline, 20);
    assert_int_equal(sc->max_batches, 0);
    assert_int_equal(sc->frozen_bn_train, 1);
    assert_int_equal(sc->augment, 1);
    assert_true(sc->kd_temperature == 1.0);
    assert_true(sc->kd_alpha == 0.5);
    assert_int_equal(sc->n_jpeg_qualities, 10);
    for (i = 0; i < 10; i++)
        assert_int_equal(sc->jpeg_qualities[i], qualities[i]);
    assert_int_equal(sc->jpeg_reference_quality, 90);
    /* The paper's hyper-parameters. */
    assert_true(sc->lr_stage1 == 1e-3 && sc->lr_stage2 == 1e-3 &&
                sc->lr_baseline == 1e-3);
    assert_true(sc->batch_stage1 == 64 && sc->batch_stage2 == 64 &&
                sc->batch_baseline == 32);
    assert_true(sc->momentum == 0.9 && sc->weight_decay_stage2 == 5e-4 &&
                sc->weight_decay_baseline == 1e-4 && sc->lr_gamma == 0.1);
    assert_int_equal(sc->n_exit_thresholds, 7);
    assert_true(sc->exit_thresholds[3] == 0.9);
    assert_int_equal(sc->n_cases, 1);
    c = &sc->cases[0];
    assert_string_equal(c->model, "resnet_mini");
    assert_string_equal(c->strategy, "bottlefit");
    assert_int_equal(c->freeze_encoder, 1);
    assert_int_equal(c->bottleneck_channels, 3);
    assert_int_equal(c->bottleneck_version, 2);
    assert_string_equal(c->config, "local");
    assert_int_equal(c->batch, 1);
    bf_scenario_free(sc);

    /* An explicit task: inference is the default. */
    sc = parse_ok("task: inference\nmodels: resnet18\n");
    assert_int_equal(sc->task, BF_TASK_INFERENCE);
    assert_string_equal(sc->cases[0].strategy, "");
    bf_scenario_free(sc);
}

static void test_scenario_train_limits(void **state)
{
    struct bf_scenario *sc;

    (void)state;
    sc = parse_ok("task: train\nmodels: resnet18\nval_fraction: 0.5\n"
                  "train_subset: 100000000\ntest_subset: 100000000\n"
                  "max_batches: 1000000000\nteacher_lr: 0.000001\n"
                  "kd_alpha: 0\nkd_temperature: 100\nepochs_stage1: 0\n"
                  "bottleneck_channels: 512\nbottleneck_version: 3\n"
                  "jpeg_qualities: 100\ndataset: fashion-mnist\n"
                  "data_dir: " TRAIN_DATA "\n");
    assert_true(sc->val_fraction == 0.5);
    assert_int_equal(sc->train_subset, 100000000);
    assert_int_equal(sc->max_batches, 1000000000);
    assert_true(sc->teacher_lr == 0.000001);
    assert_true(sc->kd_alpha == 0.0);
    assert_int_equal(sc->epochs_stage1, 0);
    assert_int_equal(sc->cases[0].bottleneck_channels, 512);
    assert_int_equal(sc->cases[0].bottleneck_version, 3);
    /* A value list accepts a scalar. */
    assert_int_equal(sc->n_jpeg_qualities, 1);
    assert_int_equal(sc->jpeg_qualities[0], 100);
    /* fashion-mnist takes data_dir as an override. */
    assert_string_equal(sc->data_dir, TRAIN_DATA);
    bf_scenario_free(sc);

    assert_fails("task: train\nmodels: resnet18\nval_fraction: 0.6\n",
                 BF_ERANGE, "t.yaml:3:15: key 'val_fraction'",
                 "0.6 is out of range 0.01..0.5");
    assert_fails("task: train\nmodels: resnet18\nkd_alpha: 1.5\n", BF_ERANGE,
                 "t.yaml:3:11: key 'kd_alpha'", "out of range 0..1");
    assert_fails("task: train\nmodels: resnet18\nbottleneck_version: [2, 4]\n",
                 BF_ERANGE, "t.yaml:3:25: key 'bottleneck_version'",
                 "4 is out of range 1..3");
    assert_fails("task: train\nmodels: resnet18\nteacher_epochs: 0\n",
                 BF_ERANGE, "t.yaml:3:17: key 'teacher_epochs'",
                 "out of range 1..1000");
    assert_fails("task: train\nmodels: resnet18\nmax_batches: 1000000001\n",
                 BF_ERANGE, "t.yaml:3:14: key 'max_batches'", "out of range");
    assert_fails("task: train\nmodels: resnet18\nteacher_lr: \"0.1\"\n",
                 BF_EPARSE, "t.yaml:3:13: key 'teacher_lr'", "quoted");
    assert_fails("task: learn\nmodels: resnet18\n", BF_EPARSE,
                 "t.yaml:1:7: key 'task'",
                 "unknown value 'learn' (choices: inference|train)");
}

static void test_scenario_wrong_task_key(void **state)
{
    (void)state;
    /* A train key in an inference scenario, default or explicit task. */
    assert_fails("models: resnet18\nstrategies: kd\n", BF_EPARSE,
                 "t.yaml:2:1: key 'strategies': applies to task 'train' "
                 "(this scenario's task is 'inference')",
                 NULL);
    assert_fails("jpeg_qualities: [10]\ntask: inference\nmodels: resnet18\n",
                 BF_EPARSE, "t.yaml:1:1: key 'jpeg_qualities'",
                 "applies to task 'train'");
    /* An inference key in a train scenario, the task given after it. */
    assert_fails("models: resnet18\nbatch: 8\ntask: train\n", BF_EPARSE,
                 "t.yaml:2:1: key 'batch': applies to task 'inference' "
                 "(this scenario's task is 'train')",
                 NULL);
    /* The first offender in file order is reported. */
    assert_fails("task: train\nmodels: resnet18\nwarmup: 3\nconfigs: local\n",
                 BF_EPARSE, "t.yaml:3:1: key 'warmup'", "applies to task");
    /* Keys of both tasks are fine either way. */
    assert_fails("task: train\nname: x\nseed: 2\nweights: {}\n", BF_EPARSE,
                 "key 'models'", "required key is missing");
}

static void test_scenario_value_list_errors(void **state)
{
    char text[1024];
    size_t used;
    struct bf_scenario *sc;
    int i;

    (void)state;
    assert_fails("task: train\nmodels: resnet18\njpeg_qualities: []\n",
                 BF_EPARSE, "t.yaml:3:17: key 'jpeg_qualities'", "empty list");
    assert_fails("task: train\nmodels: resnet18\njpeg_qualities: [10, 101]\n",
                 BF_ERANGE, "t.yaml:3:22: key 'jpeg_qualities'",
                 "101 is out of range 1..100");
    assert_fails("task: train\nmodels: resnet18\njpeg_qualities: 0\n",
                 BF_ERANGE, "t.yaml:3:17: key 'jpeg_qualities'",
                 "out of range");
    assert_fails("task: train\nmodels: resnet18\n"
                 "jpeg_qualities: [10, 20, 10]\n",
                 BF_EPARSE, "t.yaml:3:26: key 'jpeg_qualities'",
                 "duplicate value '10' (first at line 3, column 18)");
    assert_fails("task: train\nmodels: resnet18\njpeg_qualities: {a: 1}\n",
                 BF_EPARSE, "t.yaml:3:17: key 'jpeg_qualities'",
                 "expected an integer or a list of them, got a mapping");

    /* 32 values are the most; 33 are too many. */
    used = (size_t)snprintf(text, sizeof(text),
                            "task: train\nmodels: resnet18\njpeg_qualities: [");
    for (i = 1; i <= 32; i++)
        used += (size_t)snprintf(text + used, sizeof(text) - used, "%s%d",
                                 i > 1 ? ", " : "", i);
    snprintf(text + used, sizeof(text) - used, "]\n");
    sc = parse_ok(text);
    assert_int_equal(sc->n_jpeg_qualities, 32);
    assert_int_equal(sc->jpeg_qualities[31], 32);
    assert_int_equal(sc->n_cases, 1);
    bf_scenario_free(sc);
    snprintf(text + used, sizeof(text) - used, ", 33]\n");
    assert_fails(text, BF_ERANGE, "t.yaml:3:17: key 'jpeg_qualities'",
                 "33 values, at most 32");
}

static void test_scenario_data_dir_errors(void **state)
{
    struct bf_scenario *sc;

    (void)state;
    assert_fails("task: train\nmodels: resnet18\ndata_dir: /nonexistent/d\n",
                 BF_EPARSE, "t.yaml:3:11: key 'data_dir'",
                 "cannot open '/nonexistent/d': No such file or directory");
    assert_fails("task: train\nmodels: resnet18\ndata_dir: " DUMMY_BFW "\n",
                 BF_EPARSE, "t.yaml:3:11: key 'data_dir'",
                 "cannot open '" DUMMY_BFW "': not a directory");
    assert_fails("task: train\nmodels: resnet18\ndata_dir: \"\"\n", BF_EPARSE,
                 "t.yaml:3:11: key 'data_dir'",
                 "expected a directory path, got an empty string");
    assert_fails("task: train\nmodels: resnet18\ndata_dir:\n", BF_EPARSE,
                 "key 'data_dir'", "missing value");
    assert_fails("task: train\nmodels: resnet18\ndata_dir: [" TRAIN_DATA "]\n",
                 BF_EPARSE, "t.yaml:3:11: key 'data_dir'",
                 "expected a directory path, got a sequence");

    /* idx and folder need data_dir; the error points at the dataset. */
    assert_fails("task: train\nmodels: resnet18\ndataset: idx\n", BF_EPARSE,
                 "t.yaml:3:10: key 'dataset'", "'idx' needs data_dir");
    assert_fails("dataset: folder\ntask: train\nmodels: resnet18\n", BF_EPARSE,
                 "t.yaml:1:10: key 'dataset'", "'folder' needs data_dir");
    sc = parse_ok("task: train\nmodels: resnet18\ndataset: folder\n"
                  "data_dir: " TRAIN_DATA "/\n");
    assert_string_equal(sc->dataset, "folder");
    assert_string_equal(sc->data_dir, TRAIN_DATA "/");
    bf_scenario_free(sc);
}

/* precision: its choices, the folded path, and fp16 only on CUDA. */
static void test_scenario_precision(void **state)
{
    struct bf_scenario *sc;

    (void)state;
    sc = parse_ok("models: resnet18\n");
    assert_string_equal(sc->cases[0].precision, "fp32");
    bf_scenario_free(sc);
    sc = parse_ok("models: resnet18\nprecision: bf16\nchannels_last: true\n");
    assert_int_equal(sc->n_cases, 1);
    assert_string_equal(sc->cases[0].precision, "bf16");
    bf_scenario_free(sc);
    assert_fails("models: resnet18\nprecision: [fp32, bf61]\n", BF_EPARSE,
                 "t.yaml:2:19: key 'precision'", "unknown value 'bf61'");
    assert_fails("models: resnet18\nfold_bn: [true, false]\n"
                 "precision: [fp32, bf16]\n",
                 BF_EPARSE, "t.yaml:3:19: key 'precision'",
                 "'bf16' runs the folded path: it needs fold_bn: true");
    assert_fails("models: resnet18\nprecision: fp16\n", BF_EPARSE,
                 "t.yaml:2:12: key 'precision'", "'fp16' needs device: cuda");
    sc = parse_ok("models: resnet18\nprecision: fp16\ndevice: cuda:1\n");
    assert_string_equal(sc->device, "cuda:1");
    bf_scenario_free(sc);
    sc = parse_ok("models: resnet18\n");
    assert_string_equal(sc->device, "cpu");
    bf_scenario_free(sc);
    assert_fails("models: resnet18\ndevice: gpu\n", BF_EPARSE,
                 "t.yaml:2:9: key 'device'", "'gpu' is not a device");
    assert_fails("task: train\nmodels: resnet18\ndevice: cuda:x\n", BF_EPARSE,
                 "t.yaml:3:9: key 'device'", "'cuda:x' is not a device");
    sc = parse_ok("task: train\nmodels: resnet18\ntrain_precision: bf16\n");
    assert_string_equal(sc->train_precision, "bf16");
    bf_scenario_free(sc);
    assert_fails("task: train\nmodels: resnet18\ntrain_precision: fp16\n",
                 BF_EPARSE, "t.yaml:3:18: key 'train_precision'",
                 "unknown value 'fp16'");
    assert_fails("task: train\nmodels: resnet18\nprecision: bf16\n", BF_EPARSE,
                 "t.yaml:3:1: key 'precision'", "inference");
}

static void test_scenario_bad_strategy(void **state)
{
    (void)state;
    assert_fails("task: train\nmodels: resnet18\n"
                 "strategies: [kd, botlefit]\n",
                 BF_EPARSE, "t.yaml:3:18: key 'strategies'",
                 "unknown value 'botlefit' (did you mean 'bottlefit'? "
                 "choices: " STRATEGY_CHOICES ")");
    assert_fails("task: train\nmodels: resnet18\nstrategies: ghnd_kd\n",
                 BF_EPARSE, "t.yaml:3:13: key 'strategies'",
                 "(did you mean 'ghnd-kd'? choices: ");
    assert_fails("task: train\nmodels: resnet18\nstrategies: distill\n",
                 BF_EPARSE, "t.yaml:3:13: key 'strategies'",
                 "unknown value 'distill' (choices: " STRATEGY_CHOICES ")");
    assert_fails("task: train\nmodels: resnet18\nstrategies: [kd, kd]\n",
                 BF_EPARSE, "t.yaml:3:18: key 'strategies'",
                 "duplicate value 'kd'");
    assert_fails("task: train\nmodels: resnet18\ndataset: mnist\n", BF_EPARSE,
                 "t.yaml:3:10: key 'dataset'",
                 "unknown value 'mnist' (choices: fashion-mnist|idx|folder)");
}

static void test_scenario_syntax_error(void **state)
{
    struct bf_scenario *sc = NULL;

    (void)state;
    assert_fails("models: resnet18\n  batch: 1\n", BF_EPARSE,
                 "t.yaml:2:8: ", "mapping values are not allowed");
    assert_fails("models: [resnet18\n", BF_EPARSE,
                 "t.yaml:2:1: ", "did not find expected");
    assert_int_equal(bf_scenario_load(SCENARIOS "/syntax.yaml", &params, &sc),
                     BF_EPARSE);
    assert_null(sc);
    assert_detail_has(SCENARIOS "/syntax.yaml:2:8: mapping values");
}

static void test_scenario_invalid_utf8(void **state)
{
    (void)state;
    assert_fails("models: resnet18\nname: \xff\n", BF_EPARSE,
                 "t.yaml:2:7: ", "UTF-8");
}

static void test_scenario_unknown_key(void **state)
{
    (void)state;
    assert_fails("models: resnet18\nbacth: 8\n", BF_EPARSE,
                 "t.yaml:2:1: unknown key 'bacth'", "(did you mean 'batch'?)");
    assert_fails("models: resnet18\nseedz: 8\n", BF_EPARSE,
                 "t.yaml:2:1: unknown key 'seedz'", "(did you mean 'seed");
    assert_fails("models: resnet18\nbandwidth_mbps: 5\n", BF_EPARSE,
                 "t.yaml:2:1: unknown key 'bandwidth_mbps'", NULL);
    assert_null(strstr(bf_last_error(), "did you mean"));
    assert_fails("models: resnet18\n[a]: 5\n", BF_EPARSE,
                 "t.yaml:2:1: ", "expected a key name");
}

static void test_scenario_duplicate_key(void **state)
{
    (void)state;
    assert_fails("models: resnet18\nbatch: 1\nbatch: 2\n", BF_EPARSE,
                 "t.yaml:3:1: key 'batch'",
                 "duplicate key (first at line 2, column 1)");
    assert_fails("weights: {}\nmodels: resnet18\nweights: {}\n", BF_EPARSE,
                 "t.yaml:3:1: key 'weights'", "duplicate key");
}

static void test_scenario_missing_models(void **state)
{
    (void)state;
    assert_fails("batch: 8\nseed: 3\n", BF_EPARSE, "t.yaml:1:1: key 'models'",
                 "required key is missing");
}

/* Case hashes: what changes them and what does not. */
static void test_scenario_case_hash(void **state)
{
    struct bf_scenario *a, *b;
    char first[65];

    (void)state;
    a = parse_ok("models: [resnet18, resnet152]\nwarmup: 3\n");
    /* Comments, key order, a default spelled out, the name: same. */
    b = parse_ok("# a comment\nname: other\nwarmup: 3\nbatch: 1\n"
                 "models: [resnet18, resnet152]\n");
    assert_int_equal(a->n_cases, 2);
    assert_string_equal(a->settings_hash, b->settings_hash);
    assert_string_equal(a->cases[0].hash, b->cases[0].hash);
    assert_string_equal(a->cases[1].hash, b->cases[1].hash);
    assert_string_not_equal(a->cases[0].hash, a->cases[1].hash);
    assert_int_equal(strlen(a->cases[0].hash), 64);
    snprintf(first, sizeof(first), "%s", a->cases[1].hash);
    bf_scenario_free(b);
    /* A case keeps its hash when another list value joins. */
    b = parse_ok("models: [resnet152, resnet18, mobilenet_v2]\nwarmup: 3\n");
    assert_string_equal(b->cases[0].hash, first);
    bf_scenario_free(b);
    /* How often a case is measured is not what it is. */
    b = parse_ok("models: [resnet18, resnet152]\nwarmup: 3\nrepetitions: 5\n");
    assert_int_equal(b->repetitions, 5);
    assert_string_equal(a->cases[0].hash, b->cases[0].hash);
    bf_scenario_free(b);
    /* A changed setting changes every case. */
    b = parse_ok("models: [resnet18, resnet152]\nwarmup: 4\n");
    assert_string_not_equal(a->settings_hash, b->settings_hash);
    assert_string_not_equal(a->cases[0].hash, b->cases[0].hash);
    bf_scenario_free(b);
    /* precision: fp32 (the default) keeps the hashes from before the
     * key, spelled out or in a list; bf16 is another case. */
    b = parse_ok("models: [resnet18, resnet152]\nwarmup: 3\n"
                 "precision: [fp32, bf16]\n");
    assert_int_equal(b->n_cases, 4);
    assert_string_equal(b->cases[0].precision, "fp32");
    assert_string_equal(b->cases[1].precision, "bf16");
    assert_string_equal(a->settings_hash, b->settings_hash);
    assert_string_equal(a->cases[0].hash, b->cases[0].hash);
    assert_string_equal(a->cases[1].hash, b->cases[2].hash);
    assert_string_not_equal(b->cases[0].hash, b->cases[1].hash);
    assert_string_not_equal(b->cases[1].hash, b->cases[3].hash);
    bf_scenario_free(b);
    /* The extra cases of a training run hash apart from each other. */
    {
        char t[65], j[65], t2[65];

        bf_scenario_extra_case_hash(a, "teacher", "resnet18", t);
        bf_scenario_extra_case_hash(a, "jpeg", "resnet18", j);
        bf_scenario_extra_case_hash(a, "teacher", "resnet152", t2);
        assert_string_not_equal(t, j);
        assert_string_not_equal(t, t2);
    }
    bf_scenario_free(a);
}

/*
 * `seeds` repeats every training case per seed, after the models; without
 * it a case's seed is `seed`, and its hash does not mention seeds.
 */
static void test_scenario_seeds(void **state)
{
    struct bf_scenario *a, *b, *c;

    (void)state;
    a = parse_ok("task: train\nmodels: resnet_mini\nseed: 7\n"
                 "strategies: [bottlefit, naive]\n");
    assert_int_equal(a->n_cases, 2);
    assert_int_equal(a->cases[0].seed, 7);
    assert_int_equal(a->cases[1].seed, 7);
    assert_int_equal(a->teacher_per_seed, 0);
    b = parse_ok("task: train\nmodels: resnet_mini\nseed: 7\n"
                 "seeds: [7, 8, 9]\nstrategies: [bottlefit, naive]\n"
                 "teacher_per_seed: true\n");
    assert_int_equal(b->n_cases, 6);
    assert_int_equal(b->teacher_per_seed, 1);
    /* Seeds vary slower than strategies. */
    assert_int_equal(b->cases[0].seed, 7);
    assert_string_equal(b->cases[0].strategy, "bottlefit");
    assert_int_equal(b->cases[1].seed, 7);
    assert_string_equal(b->cases[1].strategy, "naive");
    assert_int_equal(b->cases[2].seed, 8);
    assert_int_equal(b->cases[5].seed, 9);
    for (size_t i = 0; i < b->n_cases; i++)
        for (size_t j = i + 1; j < b->n_cases; j++)
            assert_string_not_equal(b->cases[i].hash, b->cases[j].hash);
    /* Given explicitly, a seed is part of the point: the hash differs from
     * the case without `seeds`, which keeps the hash of earlier versions. */
    c = parse_ok("task: train\nmodels: resnet_mini\nseed: 7\n"
                 "seeds: 7\nstrategies: [bottlefit, naive]\n");
    assert_int_equal(c->n_cases, 2);
    assert_string_not_equal(a->cases[0].hash, c->cases[0].hash);
    bf_scenario_free(a);
    bf_scenario_free(b);
    bf_scenario_free(c);
    assert_fails("task: train\nmodels: resnet_mini\nseeds: [1, 2, 1]\n",
                 BF_EPARSE, "t.yaml:3:", "seeds");
    assert_fails("task: train\nmodels: resnet_mini\nseeds: [-1]\n", BF_ERANGE,
                 "t.yaml:3:", "seeds");
}

/*
 * Inference: `seeds` repeats every case per seed, slowest of all (the
 * seed draws the random weights, synthetic inputs and link randomness);
 * without it the cases and hashes are those of `seed`.
 */
static void test_scenario_seeds_inference(void **state)
{
    struct bf_scenario *a, *b;

    (void)state;
    a = parse_ok("models: resnet_mini\nseed: 4\nconfigs: [local, edge]\n");
    assert_int_equal(a->n_cases, 2);
    assert_int_equal(a->cases[0].seed, 4);
    b = parse_ok("models: resnet_mini\nseed: 4\nseeds: [4, 5]\n"
                 "configs: [local, edge]\n");
    assert_int_equal(b->n_cases, 4);
    assert_int_equal(b->cases[0].seed, 4);
    assert_string_equal(b->cases[0].config, "local");
    assert_int_equal(b->cases[1].seed, 4);
    assert_string_equal(b->cases[1].config, "edge");
    assert_int_equal(b->cases[2].seed, 5);
    assert_string_equal(b->cases[2].config, "local");
    assert_int_equal(b->cases[3].seed, 5);
    for (size_t i = 0; i < b->n_cases; i++)
        for (size_t j = i + 1; j < b->n_cases; j++)
            assert_string_not_equal(b->cases[i].hash, b->cases[j].hash);
    bf_scenario_free(a);
    bf_scenario_free(b);
    assert_fails("models: resnet_mini\nseeds: [1, 2, 1]\n", BF_EPARSE,
                 "t.yaml:2:", "seeds");
}

/* Collections nested deeper than a scenario ever needs are refused as they
 * open, with the line and column where it happens. */
static void test_scenario_nesting_depth(void **state)
{
    enum { DEPTH = 100000 };
    char *text = malloc(2 * DEPTH + 32);
    size_t n;

    (void)state;
    assert_non_null(text);
    n = (size_t)sprintf(text, "models: ");
    for (int i = 0; i < DEPTH; i++)
        text[n++] = '[';
    for (int i = 0; i < DEPTH; i++)
        text[n++] = ']';
    text[n++] = '\n';
    text[n] = '\0';
    assert_fails(text, BF_ERANGE, "t.yaml:1:", "nested deeper than 32");
    free(text);
    assert_fails("models:\n  - - - - - - - - - - - - - - - - - - - - - - - "
                 "- - - - - - - - - - - x\n",
                 BF_ERANGE, "t.yaml:2:", "nested deeper");
}

/* The document is composed from the parser's events as libyaml's loader
 * composes it: anchors and aliases, and its errors, in the order of a depth
 * check over the whole text followed by the loads of two documents. */
static void test_scenario_yaml_composition(void **state)
{
    struct bf_scenario *sc;

    (void)state;
    sc = parse_ok("models: &m resnet18\nname: *m\nbatch: &b [1, 2]\n"
                  "input_size_px: *b\n");
    assert_string_equal(sc->name, "resnet18");
    assert_int_equal(sc->n_cases, 4);
    assert_int_equal(sc->cases[3].input_size_px, 2);
    bf_scenario_free(sc);
    /* An alias stands for its anchor's node, position included. */
    assert_fails("models: &m resnet18\nconfigs: *m\n", BF_EPARSE,
                 "t.yaml:1:9: key 'configs'", "unknown value 'resnet18'");
    assert_fails("models: resnet18\nconfigs: *m\n", BF_EPARSE,
                 "t.yaml:2:10: ", "found undefined alias");
    assert_fails("models: &m resnet18\nconfigs: &m local\n", BF_EPARSE,
                 "t.yaml:2:10: ",
                 "second occurrence (found duplicate anchor; first occurrence "
                 "at line 1)");
    /* A second document's own errors come before its being there. */
    assert_fails("models: resnet18\n---\nmodels: [x\n", BF_EPARSE,
                 "t.yaml:4:1: ", "did not find expected ',' or ']'");
    assert_fails("models: resnet18\n---\nmodels: *x\n", BF_EPARSE,
                 "t.yaml:3:9: ", "found undefined alias");
    assert_fails("models: resnet18\n---\na: 1\n---\nb: [\n", BF_EPARSE,
                 "t.yaml:3:1: ", "one YAML document, found another");
    /* Too deep anywhere wins over an earlier error, not over a syntax
     * error before it. */
    assert_fails("models: resnet18\nconfigs: *zz\nx: [[[[[[[[[[[[[[[[[[[[[["
                 "[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]\n",
                 BF_ERANGE, "t.yaml:3:", "nested deeper than 32");
    assert_fails("models: resnet18\n---\nb: *u\n---\n[[[[[[[[[[[[[[[[[[[[[["
                 "[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]\n",
                 BF_ERANGE, "t.yaml:5:", "nested deeper than 32");
    assert_fails("models: [resnet18\nx: [[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[\n",
                 BF_EPARSE, "t.yaml:2:", "did not find expected ',' or ']'");
}

/* A FIFO or a directory given as the scenario is refused at once (a FIFO
 * without a writer used to block the load forever). */
static void test_scenario_not_regular_file(void **state)
{
    char dir[] = "/tmp/bf_test_fifo.XXXXXX", fifo[64];
    struct bf_scenario *sc = NULL;

    (void)state;
    assert_non_null(mkdtemp(dir));
    snprintf(fifo, sizeof(fifo), "%s/s.yaml", dir);
    assert_int_equal(mkfifo(fifo, 0600), 0);
    alarm(10); /* a hang fails the test instead of the suite's timeout */
    assert_int_equal(bf_scenario_load(fifo, &params, &sc), BF_ENOENT);
    alarm(0);
    assert_null(sc);
    assert_detail_has("is not a regular file");
    assert_detail_has(fifo);
    assert_int_equal(bf_scenario_load(dir, &params, &sc), BF_ENOENT);
    assert_detail_has("is not a regular file");
    assert_int_equal(unlink(fifo), 0);
    assert_int_equal(rmdir(dir), 0);
}

/* A configuration keeps only the first value of a list it ignores. */
static void test_scenario_ignored_lists(void **state)
{
    struct bf_scenario *sc;
    size_t local = 0, edge = 0, bottlefit = 0;

    (void)state;
    sc = parse_ok("models: resnet18\nconfigs: [local, edge, bottlefit]\n"
                  "link: fixed\nlink_rate_mbps: [1, 5, 20]\n"
                  "bottleneck_channels: [2, 12]\n");
    for (size_t i = 0; i < sc->n_cases; i++) {
        assert_int_equal(sc->cases[i].index, (int)i);
        local += strcmp(sc->cases[i].config, "local") == 0;
        edge += strcmp(sc->cases[i].config, "edge") == 0;
        bottlefit += strcmp(sc->cases[i].config, "bottlefit") == 0;
    }
    /* local: no rate, no C; edge: rates only; bottlefit: both. */
    assert_int_equal(local, 1);
    assert_int_equal(edge, 3);
    assert_int_equal(bottlefit, 6);
    assert_int_equal(sc->n_cases, 10);
    bf_scenario_free(sc);
    /* Training takes one thread count for all its cases. */
    sc = parse_ok("task: train\nmodels: resnet18\nthreads: 1\n");
    assert_int_equal(sc->cases[0].threads, 1);
    bf_scenario_free(sc);
    assert_fails("task: train\nmodels: resnet18\nthreads: [1, 2]\n", BF_EPARSE,
                 "t.yaml:3:14: key 'threads'", "one thread count");
}

/* Write text to a file under dir; returns its path in out. */
static void put_file(const char *dir, const char *name, const char *text,
                     char *out, size_t size)
{
    FILE *f;

    snprintf(out, size, "%s/%s", dir, name);
    f = fopen(out, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static void test_scenario_suite(void **state)
{
    char dir[] = "/tmp/bf_suite_XXXXXX";
    char path[512], member[512];
    struct bf_suite suite;

    (void)state;
    assert_non_null(mkdtemp(dir));
    put_file(dir, "a.yaml", "models: resnet18\n", member, sizeof(member));
    put_file(dir, "s.yaml", "name: both\nsuite: [a.yaml, a.yaml]\n", path,
             sizeof(path));
    assert_int_equal(bf_suite_load(path, &suite), 0);
    assert_string_equal(suite.name, "both");
    assert_int_equal(suite.n, 2);
    assert_string_equal(suite.paths[0], member);
    /* A scenario is not a suite. */
    assert_int_equal(bf_suite_load(member, &suite), 0);
    assert_int_equal(suite.n, 0);
    /* Errors name the file, line and column. */
    put_file(dir, "bad.yaml", "suite:\n  - a.yaml\n  - missing.yaml\n", path,
             sizeof(path));
    assert_int_equal(bf_suite_load(path, &suite), BF_EPARSE);
    assert_detail_has("bad.yaml:3:5: key 'suite': cannot open");
    assert_detail_has("missing.yaml");
    put_file(dir, "key.yaml", "suite: [a.yaml]\nmodels: resnet18\n", path,
             sizeof(path));
    assert_int_equal(bf_suite_load(path, &suite), BF_EPARSE);
    assert_detail_has("key.yaml:2:1: a suite file holds only");
    put_file(dir, "empty.yaml", "suite: []\n", path, sizeof(path));
    assert_int_equal(bf_suite_load(path, &suite), BF_EPARSE);
    assert_detail_has("empty.yaml:1:8: key 'suite': expected a non-empty");
    put_file(dir, "nested.yaml", "suite: [[a.yaml]]\n", path, sizeof(path));
    assert_int_equal(bf_suite_load(path, &suite), BF_EPARSE);
    assert_detail_has("expected a scenario file name, got a sequence");
    snprintf(path, sizeof(path), "%s/none.yaml", dir);
    assert_int_equal(bf_suite_load(path, &suite), BF_ENOENT);
    {
        const char *names[] = {"a.yaml",   "s.yaml",     "bad.yaml",
                               "key.yaml", "empty.yaml", "nested.yaml"};

        for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
            snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
            unlink(path);
        }
        rmdir(dir);
    }
}

/* What `bfbench run` takes, read once: a suite, or a scenario loaded as
 * bf_scenario_load loads it; errors as bf_suite_load's, then as
 * bf_scenario_load's. */
static void test_scenario_load_or_suite(void **state)
{
    char dir[] = "/tmp/bf_suite_XXXXXX";
    char path[512], member[512], bad[512];
    struct bf_suite suite;
    struct bf_scenario *sc = (struct bf_scenario *)&sc, *want = NULL;

    (void)state;
    assert_non_null(mkdtemp(dir));
    put_file(dir, "a.yaml", "models: [resnet18, mobilenet_v2]\nbatch: [1, 2]\n",
             member, sizeof(member));
    put_file(dir, "s.yaml", "suite: [a.yaml]\n", path, sizeof(path));
    assert_int_equal(bf_scenario_load_or_suite(path, &params, &suite, &sc), 0);
    assert_int_equal(suite.n, 1);
    assert_string_equal(suite.paths[0], member);
    assert_null(sc);
    assert_int_equal(bf_scenario_load_or_suite(member, &params, &suite, &sc),
                     0);
    assert_int_equal(suite.n, 0);
    assert_non_null(sc);
    assert_int_equal(bf_scenario_load(member, &params, &want), 0);
    assert_string_equal(sc->path, want->path);
    assert_string_equal(sc->name, "a");
    assert_string_equal(sc->settings_hash, want->settings_hash);
    assert_int_equal(sc->n_cases, want->n_cases);
    for (size_t i = 0; i < sc->n_cases; i++)
        assert_string_equal(sc->cases[i].hash, want->cases[i].hash);
    assert_int_equal(sc->text_len, want->text_len);
    assert_memory_equal(sc->text, want->text, sc->text_len);
    bf_scenario_free(sc);
    bf_scenario_free(want);
    put_file(dir, "bad.yaml", "suite: []\n", bad, sizeof(bad));
    assert_int_equal(bf_scenario_load_or_suite(bad, &params, &suite, &sc),
                     BF_EPARSE);
    assert_detail_has("bad.yaml:1:8: key 'suite': expected a non-empty");
    assert_null(sc);
    put_file(dir, "bad.yaml", "models: resnet18\nbatch: 0\n", bad, sizeof(bad));
    assert_int_equal(bf_scenario_load_or_suite(bad, &params, &suite, &sc),
                     BF_ERANGE);
    assert_detail_has("bad.yaml:2:8: key 'batch': 0 is out of range");
    assert_null(sc);
    snprintf(bad, sizeof(bad), "%s/none.yaml", dir);
    assert_int_equal(bf_scenario_load_or_suite(bad, &params, &suite, &sc),
                     BF_ENOENT);
    assert_int_equal(bf_scenario_load_or_suite(NULL, &params, &suite, &sc),
                     BF_EINVAL);
    assert_int_equal(bf_scenario_load_or_suite(member, &params, NULL, &sc),
                     BF_EINVAL);
    unlink(member);
    unlink(path);
    snprintf(path, sizeof(path), "%s/bad.yaml", dir);
    unlink(path);
    rmdir(dir);
}

static void test_scenario_missing_value(void **state)
{
    (void)state;
    assert_fails("models: resnet18\nseed:\n", BF_EPARSE,
                 "t.yaml:2:", "key 'seed': missing value");
    assert_fails("models:\nbatch: 1\n", BF_EPARSE, "key 'models'",
                 "missing value");
    assert_fails("models: [resnet18, ~]\n", BF_EPARSE,
                 "t.yaml:1:20: key 'models'", "missing value");
}

static void test_scenario_wrong_type_string_for_int(void **state)
{
    (void)state;
    assert_fails("models: resnet18\nbatch: abc\n", BF_EPARSE,
                 "t.yaml:2:8: key 'batch'", "expected an integer, got 'abc'");
    assert_fails("models: resnet18\nbatch: 2.5\n", BF_EPARSE,
                 "t.yaml:2:8: key 'batch'", "expected an integer");
    assert_fails("models: resnet18\nwarmup: 0x10\n", BF_EPARSE,
                 "t.yaml:2:9: key 'warmup'", "expected an integer");
}

static void test_scenario_wrong_type_quoted_int(void **state)
{
    (void)state;
    assert_fails("models: resnet18\nbatch: \"8\"\n", BF_EPARSE,
                 "t.yaml:2:8: key 'batch'",
                 "expected an integer, got the quoted string '8'");
    assert_fails("models: resnet18\nseed: '8'\n", BF_EPARSE,
                 "t.yaml:2:7: key 'seed'", "quoted string");
}

static void test_scenario_wrong_type_sequence_for_scalar(void **state)
{
    (void)state;
    assert_fails("models: resnet18\nseed: [1, 2]\n", BF_EPARSE,
                 "t.yaml:2:7: key 'seed'",
                 "expected an integer, got a sequence");
    assert_fails("models: resnet18\nname:\n  - a\n", BF_EPARSE,
                 "t.yaml:3:3: key 'name'", "got a sequence");
}

static void test_scenario_wrong_type_mapping(void **state)
{
    (void)state;
    assert_fails("models: {resnet18: 1}\n", BF_EPARSE,
                 "t.yaml:1:9: key 'models'",
                 "expected a model name or a list of them, got a mapping");
    assert_fails("models: [[resnet18]]\n", BF_EPARSE,
                 "t.yaml:1:10: key 'models'", "in the list, got a sequence");
    assert_fails("models: resnet18\nweights: [a]\n", BF_EPARSE,
                 "t.yaml:2:10: key 'weights'", "expected a mapping");
}

static void test_scenario_out_of_range(void **state)
{
    (void)state;
    assert_fails("models: resnet18\nbatch: 0\n", BF_ERANGE,
                 "t.yaml:2:8: key 'batch'", "0 is out of range 1..1024");
    assert_fails("models: resnet18\nthreads: [1, 300]\n", BF_ERANGE,
                 "t.yaml:2:14: key 'threads'", "300 is out of range 0..256");
    assert_fails("models: resnet18\nseed: -1\n", BF_ERANGE,
                 "t.yaml:2:7: key 'seed'", "out of range");
    assert_fails("models: resnet18\nseed: 9007199254740992\n", BF_ERANGE,
                 "t.yaml:2:7: key 'seed'", "0..9007199254740991");
    assert_fails("models: resnet18\nwarmup: 99999999999999999999\n", BF_ERANGE,
                 "t.yaml:2:9: key 'warmup'", "out of range");
    assert_fails("models: resnet18\nname: "
                 "0123456789012345678901234567890123456789012345678901234567"
                 "890123\n",
                 BF_ERANGE, "t.yaml:2:7: key 'name'", "longer than 63 bytes");
}

static void test_scenario_max_below_min(void **state)
{
    (void)state;
    assert_fails("models: resnet18\nmin_samples: 50\nmax_samples: 10\n",
                 BF_ERANGE, "t.yaml:3:14: key 'max_samples'",
                 "10 is less than min_samples (50)");
    assert_fails("models: resnet18\nmin_samples: 200000\n", BF_ERANGE,
                 "t.yaml:2:14: key 'min_samples'",
                 "greater than max_samples (100000)");
}

/* Link rates and background clients expand into cases, rate-major. */
static void test_scenario_network_lists(void **state)
{
    struct bf_scenario *sc =
        parse_ok("models: resnet18\nconfigs: bottlefit\nlink: fixed\n"
                 "link_rate_mbps: [1, 5.5]\nbackground_clients: [0, 3]\n"
                 "link_rtt_ms: 40\nbottleneck_channels: 12\n");

    (void)state;
    assert_int_equal(sc->n_cases, 4);
    assert_float_equal(sc->cases[0].link_rate_mbps, 1.0, 0);
    assert_int_equal(sc->cases[0].background_clients, 0);
    assert_int_equal(sc->cases[1].background_clients, 3);
    assert_float_equal(sc->cases[2].link_rate_mbps, 5.5, 0);
    assert_int_equal(sc->cases[3].background_clients, 3);
    assert_int_equal(sc->cases[3].bottleneck_channels, 12);
    assert_string_equal(sc->link, "fixed");
    assert_float_equal(sc->link_rtt_ms, 40.0, 0);
    bf_scenario_free(sc);
}

static void test_scenario_bad_enum(void **state)
{
    (void)state;
    assert_fails("models: resnet18\nconfigs: [local, cloud]\n", BF_EPARSE,
                 "t.yaml:2:18: key 'configs'",
                 "unknown value 'cloud' (choices: local|edge|bottlefit|"
                 "ae-split|spinn-split)");
    assert_fails("models: resnet18\nconfigs: edge\nlink: trace\n", BF_EPARSE,
                 "t.yaml:3:7: key 'link'", "'trace' needs link_trace");
    assert_fails("models: resnet18\nconfigs: edge\nlink: direct\n", BF_EPARSE,
                 "t.yaml:3:7: key 'link'", "needs edge_address");
    assert_fails("models: resnet18\nconfigs: [local, edge]\nbatch: [1, 4]\n",
                 BF_ERANGE, "t.yaml:3:9: key 'batch'", "batch 1");
}

static void test_scenario_unknown_model(void **state)
{
    (void)state;
    assert_fails("models: [resnet18, resnet19]\n", BF_EPARSE,
                 "t.yaml:1:20: key 'models'", "unknown model 'resnet19'");
}

static void test_scenario_empty_list(void **state)
{
    (void)state;
    assert_fails("models: resnet18\nbatch: []\n", BF_EPARSE,
                 "t.yaml:2:8: key 'batch'", "empty list");
    assert_fails("models: []\n", BF_EPARSE, "t.yaml:1:9: key 'models'",
                 "empty list");
}

static void test_scenario_duplicate_list_entry(void **state)
{
    (void)state;
    assert_fails("models: [resnet18, resnet152, resnet18]\n", BF_EPARSE,
                 "t.yaml:1:31: key 'models'",
                 "duplicate value 'resnet18' (first at line 1, column 10)");
    assert_fails("models: resnet18\nbatch: [8, 08]\n", BF_EPARSE,
                 "t.yaml:2:12: key 'batch'", "duplicate value '08'");
    assert_fails("models: resnet18\nfold_bn: [true, TRUE]\n", BF_EPARSE,
                 "t.yaml:2:17: key 'fold_bn'", "duplicate value");
}

static void test_scenario_weights_not_in_models(void **state)
{
    (void)state;
    assert_fails("models: resnet18\nweights:\n  resnet152: " DUMMY_BFW "\n",
                 BF_EPARSE, "t.yaml:3:3: key 'weights'",
                 "model 'resnet152' is not in models");
    assert_fails("weights: {resnet18: " DUMMY_BFW ", resnet18: " DUMMY_BFW
                 "}\nmodels: resnet18\n",
                 BF_EPARSE, "key 'weights'", "duplicate model 'resnet18'");
}

static void test_scenario_weights_file_missing(void **state)
{
    struct bf_scenario *sc = NULL;

    (void)state;
    assert_fails("models: resnet18\nweights: {resnet18: /nonexistent/x.bfw}\n",
                 BF_EPARSE, "t.yaml:2:21: key 'weights'",
                 "model 'resnet18': cannot open '/nonexistent/x.bfw': "
                 "No such file or directory");
    assert_fails("models: resnet18\nweights: {resnet18: " SCENARIOS "}\n",
                 BF_EPARSE, "key 'weights'", "not a regular file");
    assert_fails("models: resnet18\nweights: {resnet18: }\n", BF_EPARSE,
                 "key 'weights'", "expected a file path");
    /* Relative paths are resolved against the scenario's directory. */
    assert_int_equal(
        bf_scenario_load(SCENARIOS "/weights_missing.yaml", &params, &sc),
        BF_EPARSE);
    assert_null(sc);
    assert_detail_has(SCENARIOS "/weights_missing.yaml:3:14: key 'weights'");
    assert_detail_has("cannot open '" SCENARIOS "/missing.bfw'");
}

static void test_scenario_empty_file(void **state)
{
    struct bf_scenario *sc = NULL;

    (void)state;
    assert_int_equal(bf_scenario_load(SCENARIOS "/empty.yaml", &params, &sc),
                     BF_EPARSE);
    assert_null(sc);
    assert_detail_has(SCENARIOS "/empty.yaml:1:1: empty scenario");
    assert_fails("", BF_EPARSE, "t.yaml:1:1: empty scenario", NULL);
    assert_fails("# only a comment\n", BF_EPARSE, "empty scenario", NULL);
    assert_fails("---\n", BF_EPARSE, "empty scenario", NULL);
}

static void test_scenario_not_a_mapping(void **state)
{
    (void)state;
    assert_fails("- models\n- batch\n", BF_EPARSE, "t.yaml:1:1: ",
                 "a scenario is a mapping of keys, got a sequence");
    assert_fails("resnet18\n", BF_EPARSE, "t.yaml:1:1: ", "got a scalar");
}

static void test_scenario_multiple_documents(void **state)
{
    (void)state;
    assert_fails("models: resnet18\n---\nmodels: resnet152\n", BF_EPARSE,
                 "t.yaml:3:1: ", "one YAML document");
    assert_fails("models: resnet18\n---\n[\n", BF_EPARSE, "t.yaml:4:1: ", NULL);
}

static void test_scenario_nonexistent_file(void **state)
{
    struct bf_scenario *sc = (struct bf_scenario *)&sc;

    (void)state;
    assert_int_equal(bf_scenario_load(SCENARIOS "/nope.yaml", &params, &sc),
                     BF_ENOENT);
    assert_null(sc);
    assert_detail_has("cannot open scenario '" SCENARIOS
                      "/nope.yaml': No such file or directory");
    /* A directory opens but cannot be read. */
    assert_int_equal(bf_scenario_load(SCENARIOS, &params, &sc), BF_ENOENT);
    assert_null(sc);
    assert_detail_has("scenario '" SCENARIOS "' is not a regular file");
}

static void test_scenario_too_large(void **state)
{
    size_t len = ((size_t)1 << 20) + 1;
    char *text = malloc(len);
    struct bf_scenario *sc = NULL;

    (void)state;
    assert_non_null(text);
    memset(text, '#', len);
    assert_int_equal(bf_scenario_parse("big.yaml", text, len, &params, &sc),
                     BF_ERANGE);
    assert_null(sc);
    assert_detail_has("big.yaml: scenario larger than");
    free(text);
}

static void test_scenario_matrix_too_large(void **state)
{
    char text[4096];
    size_t used;
    int i;

    (void)state;
    used = (size_t)snprintf(text, sizeof(text), "models: resnet18\nbatch: [");
    for (i = 1; i <= 101; i++)
        used += (size_t)snprintf(text + used, sizeof(text) - used, "%s%d",
                                 i > 1 ? ", " : "", i);
    used += (size_t)snprintf(text + used, sizeof(text) - used, "]\nthreads: [");
    for (i = 0; i <= 100; i++)
        used += (size_t)snprintf(text + used, sizeof(text) - used, "%s%d",
                                 i > 0 ? ", " : "", i);
    snprintf(text + used, sizeof(text) - used, "]\n");
    assert_fails(text, BF_ERANGE, "t.yaml:1:1: ", "more than 10000 cases");
}

static void test_scenario_invalid_arguments(void **state)
{
    static const struct bf_scenario_params no_zoo = {.model_exists = NULL};
    struct bf_scenario *sc = NULL;

    (void)state;
    assert_int_equal(
        bf_scenario_parse("t.yaml", "models: resnet18\n", 17, NULL, &sc),
        BF_EINVAL);
    assert_int_equal(
        bf_scenario_parse("t.yaml", "models: resnet18\n", 17, &no_zoo, &sc),
        BF_EINVAL);
    assert_int_equal(bf_scenario_parse(NULL, "x", 1, &params, &sc), BF_EINVAL);
    assert_int_equal(bf_scenario_load(SCENARIOS "/good.yaml", NULL, &sc),
                     BF_EINVAL);
    assert_int_equal(bf_scenario_load(NULL, &params, &sc), BF_EINVAL);
    assert_int_equal(bf_scenario_load(SCENARIOS "/good.yaml", &params, NULL),
                     BF_EINVAL);
    assert_null(sc);
    bf_scenario_free(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_scenario_keys_table_order),
        cmocka_unit_test(test_scenario_keys_print_golden),
        cmocka_unit_test(test_scenario_keys_storage),
        cmocka_unit_test(test_scenario_every_key_file),
        cmocka_unit_test(test_scenario_defaults),
        cmocka_unit_test(test_scenario_default_name_from_file),
        cmocka_unit_test(test_scenario_scalar_vs_list),
        cmocka_unit_test(test_scenario_matrix_order),
        cmocka_unit_test(test_scenario_bool_spellings),
        cmocka_unit_test(test_scenario_range_limits),
        cmocka_unit_test(test_scenario_weights_absolute),
        cmocka_unit_test(test_scenario_train_every_key_file),
        cmocka_unit_test(test_scenario_train_defaults),
        cmocka_unit_test(test_scenario_train_limits),
        cmocka_unit_test(test_scenario_wrong_task_key),
        cmocka_unit_test(test_scenario_value_list_errors),
        cmocka_unit_test(test_scenario_data_dir_errors),
        cmocka_unit_test(test_scenario_precision),
        cmocka_unit_test(test_scenario_bad_strategy),
        cmocka_unit_test(test_scenario_syntax_error),
        cmocka_unit_test(test_scenario_yaml_composition),
        cmocka_unit_test(test_scenario_invalid_utf8),
        cmocka_unit_test(test_scenario_unknown_key),
        cmocka_unit_test(test_scenario_duplicate_key),
        cmocka_unit_test(test_scenario_missing_models),
        cmocka_unit_test(test_scenario_missing_value),
        cmocka_unit_test(test_scenario_case_hash),
        cmocka_unit_test(test_scenario_seeds),
        cmocka_unit_test(test_scenario_seeds_inference),
        cmocka_unit_test(test_scenario_nesting_depth),
        cmocka_unit_test(test_scenario_not_regular_file),
        cmocka_unit_test(test_scenario_ignored_lists),
        cmocka_unit_test(test_scenario_suite),
        cmocka_unit_test(test_scenario_load_or_suite),
        cmocka_unit_test(test_scenario_wrong_type_string_for_int),
        cmocka_unit_test(test_scenario_wrong_type_quoted_int),
        cmocka_unit_test(test_scenario_wrong_type_sequence_for_scalar),
        cmocka_unit_test(test_scenario_wrong_type_mapping),
        cmocka_unit_test(test_scenario_out_of_range),
        cmocka_unit_test(test_scenario_max_below_min),
        cmocka_unit_test(test_scenario_network_lists),
        cmocka_unit_test(test_scenario_bad_enum),
        cmocka_unit_test(test_scenario_unknown_model),
        cmocka_unit_test(test_scenario_empty_list),
        cmocka_unit_test(test_scenario_duplicate_list_entry),
        cmocka_unit_test(test_scenario_weights_not_in_models),
        cmocka_unit_test(test_scenario_weights_file_missing),
        cmocka_unit_test(test_scenario_empty_file),
        cmocka_unit_test(test_scenario_not_a_mapping),
        cmocka_unit_test(test_scenario_multiple_documents),
        cmocka_unit_test(test_scenario_nonexistent_file),
        cmocka_unit_test(test_scenario_too_large),
        cmocka_unit_test(test_scenario_matrix_too_large),
        cmocka_unit_test(test_scenario_invalid_arguments),
        cmocka_unit_test(test_scenario_shards),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
