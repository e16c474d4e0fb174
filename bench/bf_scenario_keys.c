/*
 * bf_scenario_keys.c: the key table of scenario files, one row per key:
 * its documentation (name, task, type, unit, default, range, help), shown
 * by `bfbench keys`, and its storage, the field of struct bf_scenario or
 * struct bf_case that the loader fills from it. Also the lookups of keys
 * and choices, with "did you mean" suggestions.
 *
 * Adding a key takes a row here and its field in bf_scenario.h; a row
 * without storage fails the tests. The row's place matters: the settings
 * hash lists keys in table order, and inference cases expand in it.
 */
#include "bf_scenario_int.h"

#include <stddef.h>
#include <stdint.h>

/*
 * The storage of a row; its kind comes from the C type of the field
 * (enum bf_key_store):
 *
 *   ONE(field)            one value, in struct bf_scenario
 *   CASES(field)          a list that expands into cases, each case's
 *                         value in struct bf_case
 *   VALUES(field, count)  a value list, in struct bf_scenario
 *   HOOK                  stored by code of its own: `name` (the file's base
 *                         name when absent), `task` (enum bf_task) and
 *                         `weights` (each case's file, by model)
 *
 * Behaviour beyond storage, in the loader's code: `seeds` defaults to the
 * value of `seed` and gives the case its seed (else `seed` does), keys of
 * the other task are refused, and the checks that span keys.
 */
#define STORE_KIND(field)                                                      \
    _Generic((field),                                                          \
        int: BF_KEY_STORE_INT,                                                 \
        int64_t: BF_KEY_STORE_INT64,                                           \
        uint64_t: BF_KEY_STORE_UINT64,                                         \
        double: BF_KEY_STORE_DOUBLE,                                           \
        char *: BF_KEY_STORE_TEXT,                                             \
        int *: BF_KEY_STORE_INTS,                                              \
        double *: BF_KEY_STORE_DOUBLES,                                        \
        char(*)[BF_SCENARIO_NAME_MAX]: BF_KEY_STORE_TEXTS)
#define FIELD_OF(type, field)                                                  \
    .store = STORE_KIND(((type *)0)->field), .offset = offsetof(type, field),  \
    .size = sizeof(((type *)0)->field)
#define ONE(field) FIELD_OF(struct bf_scenario, field)
#define CASES(field)                                                           \
    .is_list = BF_KEY_LIST_CASES, FIELD_OF(struct bf_case, field)
#define VALUES(field, count)                                                   \
    .is_list = BF_KEY_LIST_VALUES, FIELD_OF(struct bf_scenario, field),        \
    .count_offset = offsetof(struct bf_scenario, count)
#define HOOK .store = BF_KEY_STORE_HOOK

const struct bf_scenario_key bf__scenario_key_table[] = {
    {.name = "name",
     .type = BF_KEY_STRING,
     .task = TASK_ANY,
     .unit = "",
     .def = "",
     .choices = "",
     .help = "human name of the scenario; default: the file name "
             "without extension",
     HOOK},
    {.name = "seed",
     .type = BF_KEY_INT,
     .task = TASK_ANY,
     .unit = "",
     .def = "1",
     .min = 0,
     .max = 9007199254740991.0,
     .choices = "",
     .help = "drives every random choice; train: the data split, "
             "subsets and teacher (and the students without "
             "`seeds`)",
     ONE(seed)},
    {.name = "seeds",
     .type = BF_KEY_INT,
     .task = TASK_ANY,
     .unit = "",
     .def = "seed",
     .min = 0,
     .max = 9007199254740991.0,
     .choices = "",
     .help = "seeds, one case each; train: the student's "
             "initialisation, batch order and augmentation (the data "
             "split and test items stay those of `seed`); inference: "
             "random weights, synthetic inputs and link randomness",
     CASES(seed)},
    {.name = "configs",
     .type = BF_KEY_ENUM,
     .task = TASK_INFERENCE,
     .unit = "",
     .def = "local",
     .choices = "local|edge|bottlefit|ae-split|spinn-split",
     .help = "split-computing configurations to run",
     CASES(config)},
    {.name = "models",
     .type = BF_KEY_MODEL,
     .task = TASK_ANY,
     .required = 1,
     .unit = "",
     .def = "",
     .choices = "",
     .help = "model architectures (see `bfbench models`)",
     CASES(model)},
    {.name = "input_size_px",
     .type = BF_KEY_INT,
     .task = TASK_INFERENCE,
     .unit = "px",
     .def = "0",
     .min = 0,
     .max = 4096,
     .choices = "",
     .help = "input height = width; 0 = the model's "
             "native size",
     CASES(input_size_px)},
    {.name = "batch",
     .type = BF_KEY_INT,
     .task = TASK_INFERENCE,
     .unit = "images",
     .def = "1",
     .min = 1,
     .max = 1024,
     .choices = "",
     .help = "images per forward",
     CASES(batch)},
    {.name = "threads",
     .type = BF_KEY_INT,
     .task = TASK_ANY,
     .unit = "",
     .def = "0",
     .min = 0,
     .max = 256,
     .choices = "",
     .help = "intra-op threads; 0 = online cores (train: one "
             "value, for every case)",
     CASES(threads)},
    {.name = "fold_bn",
     .type = BF_KEY_BOOL,
     .task = TASK_INFERENCE,
     .unit = "",
     .def = "true",
     .choices = "",
     .help = "BatchNorm folded into the preceding convolution "
             "(inference path)",
     CASES(fold_bn)},
    {.name = "channels_last",
     .type = BF_KEY_BOOL,
     .task = TASK_INFERENCE,
     .unit = "",
     .def = "false",
     .choices = "",
     .help = "NHWC memory format",
     CASES(channels_last)},
    {.name = "precision",
     .type = BF_KEY_ENUM,
     .task = TASK_INFERENCE,
     .unit = "",
     .def = "fp32",
     .choices = "fp32|bf16|fp16",
     .help = "compute type of the folded path (needs fold_bn; inputs, "
             "outputs and the transmitted tensor stay fp32; fp16 needs "
             "CUDA)",
     CASES(precision)},
    {.name = "warmup",
     .type = BF_KEY_INT,
     .task = TASK_INFERENCE,
     .unit = "iterations",
     .def = "5",
     .min = 0,
     .max = 100000,
     .choices = "",
     .help = "untimed iterations per case",
     ONE(warmup)},
    {.name = "min_samples",
     .type = BF_KEY_INT,
     .task = TASK_INFERENCE,
     .unit = "samples",
     .def = "30",
     .min = 1,
     .max = 10000000,
     .choices = "",
     .help = "timed samples: at least this many ...",
     ONE(min_samples)},
    {.name = "min_duration_ms",
     .type = BF_KEY_INT,
     .task = TASK_INFERENCE,
     .unit = "ms",
     .def = "2000",
     .min = 0,
     .max = 86400000,
     .choices = "",
     .help = "... and at least this long",
     ONE(min_duration_ms)},
    {.name = "max_samples",
     .type = BF_KEY_INT,
     .task = TASK_INFERENCE,
     .unit = "samples",
     .def = "100000",
     .min = 1,
     .max = 100000000,
     .choices = "",
     .help = "cap on timed samples per case; must be >= "
             "min_samples",
     ONE(max_samples)},
    {.name = "repetitions",
     .type = BF_KEY_INT,
     .task = TASK_INFERENCE,
     .unit = "rounds",
     .def = "1",
     .min = 1,
     .max = 1000,
     .choices = "",
     .help = "rounds over every case, each case measured "
             "once a round into its own case row (same "
             "hash): independent repetitions for compare",
     ONE(repetitions)},
    {.name = "weights",
     .type = BF_KEY_WEIGHTS,
     .task = TASK_ANY,
     .unit = "",
     .def = "{}",
     .choices = "",
     .help = "mapping model -> weights file (path relative to "
             "the scenario file); absent: random init",
     HOOK},
    {.name = "task",
     .type = BF_KEY_ENUM,
     .task = TASK_ANY,
     .unit = "",
     .def = TASK_INFERENCE,
     .choices = TASK_INFERENCE "|" TASK_TRAIN,
     .help = "what the cases do: time inference, or train and "
             "evaluate models",
     HOOK},
    {.name = "dataset",
     .type = BF_KEY_ENUM,
     .task = TASK_TRAIN,
     .unit = "",
     .def = "fashion-mnist",
     .choices = "fashion-mnist|idx|folder",
     .help = "training and evaluation data; idx and folder "
             "need data_dir",
     ONE(dataset)},
    {.name = "data_dir",
     .type = BF_KEY_DIR,
     .task = TASK_TRAIN,
     .unit = "",
     .def = "",
     .choices = "",
     .help = "IDX files or an ImageFolder root with train/ and "
             "val/ (relative to the scenario file); absent: "
             "/usr/share/datasets/fashion-mnist",
     ONE(data_dir)},
    {.name = "val_fraction",
     .type = BF_KEY_FLOAT,
     .task = TASK_TRAIN,
     .unit = "",
     .def = "0.1",
     .min = 0.01,
     .max = 0.5,
     .choices = "",
     .help = "share of the training split held out for "
             "model selection",
     ONE(val_fraction)},
    {.name = "train_subset",
     .type = BF_KEY_INT,
     .task = TASK_TRAIN,
     .unit = "items",
     .def = "0",
     .min = 0,
     .max = 100000000,
     .choices = "",
     .help = "training items used; 0 = all",
     ONE(train_subset)},
    {.name = "test_subset",
     .type = BF_KEY_INT,
     .task = TASK_TRAIN,
     .unit = "items",
     .def = "0",
     .min = 0,
     .max = 100000000,
     .choices = "",
     .help = "test items evaluated; 0 = all",
     ONE(test_subset)},
    {.name = "strategies",
     .type = BF_KEY_ENUM,
     .task = TASK_TRAIN,
     .unit = "",
     .def = "bottlefit",
     .choices = "naive|kd|hnd|ghnd|ghnd-ft|ghnd-kd|bottlefit|"
                "ae-split|spinn-split",
     .help = "training strategies and baselines",
     CASES(strategy)},
    {.name = "freeze_encoder",
     .type = BF_KEY_BOOL,
     .task = TASK_TRAIN,
     .unit = "",
     .def = "true",
     .choices = "",
     .help = "encoder frozen in stage 2 (the FE "
             "variants)",
     CASES(freeze_encoder)},
    {.name = "bottleneck_channels",
     .type = BF_KEY_INT,
     .task = TASK_ANY,
     .unit = "channels",
     .def = "3",
     .min = 1,
     .max = 512,
     .choices = "",
     .help = "channels C of the transmitted "
             "bottleneck",
     CASES(bottleneck_channels)},
    {.name = "bottleneck_version",
     .type = BF_KEY_INT,
     .task = TASK_ANY,
     .unit = "",
     .def = "2",
     .min = 1,
     .max = 3,
     .choices = "",
     .help = "placement of the bottleneck (1 and 3 "
             "exist for ResNets only)",
     CASES(bottleneck_version)},
    {.name = "teacher_epochs",
     .type = BF_KEY_INT,
     .task = TASK_TRAIN,
     .unit = "epochs",
     .def = "15",
     .min = 1,
     .max = 1000,
     .choices = "",
     .help = "epochs of a teacher trained here (cached)",
     ONE(teacher_epochs)},
    {.name = "teacher_lr",
     .type = BF_KEY_FLOAT,
     .task = TASK_TRAIN,
     .unit = "",
     .def = "0.1",
     .min = 0.000001,
     .max = 10,
     .choices = "",
     .help = "SGD learning rate of the teacher",
     ONE(teacher_lr)},
    {.name = "teacher_batch",
     .type = BF_KEY_INT,
     .task = TASK_TRAIN,
     .unit = "images",
     .def = "128",
     .min = 1,
     .max = 4096,
     .choices = "",
     .help = "images per SGD step of the teacher",
     ONE(teacher_batch)},
    {.name = "teacher_train_subset",
     .type = BF_KEY_INT,
     .task = TASK_TRAIN,
     .unit = "items",
     .def = "0",
     .min = 0,
     .max = 100000000,
     .choices = "",
     .help = "training items of a teacher trained here (a "
             "superset of the students'); 0 = train_subset's",
     ONE(teacher_train_subset)},
    {.name = "teacher_per_seed",
     .type = BF_KEY_BOOL,
     .task = TASK_TRAIN,
     .unit = "",
     .def = "false",
     .choices = "",
     .help = "false: every seed distils from one "
             "teacher (trained with `seed`, as the "
             "paper's one pretrained teacher); true: "
             "each seed trains its own",
     ONE(teacher_per_seed)},
    {.name = "epochs_stage1",
     .type = BF_KEY_INT,
     .task = TASK_TRAIN,
     .unit = "epochs",
     .def = "10",
     .min = 0,
     .max = 1000,
     .choices = "",
     .help = "GHND stage (paper: 10)",
     ONE(epochs_stage1)},
    {.name = "epochs_stage2",
     .type = BF_KEY_INT,
     .task = TASK_TRAIN,
     .unit = "epochs",
     .def = "10",
     .min = 0,
     .max = 1000,
     .choices = "",
     .help = "fine-tuning stage (paper: 10)",
     ONE(epochs_stage2)},
    {.name = "epochs_baseline",
     .type = BF_KEY_INT,
     .task = TASK_TRAIN,
     .unit = "epochs",
     .def = "20",
     .min = 0,
     .max = 1000,
     .choices = "",
     .help = "naive, kd, hnd and autoencoder baselines "
             "(paper: 20)",
     ONE(epochs_baseline)},
    {.name = "lr_stage1",
     .type = BF_KEY_FLOAT,
     .task = TASK_TRAIN,
     .unit = "",
     .def = "0.001",
     .min = 0.000001,
     .max = 10,
     .choices = "",
     .help = "learning rate of the GHND stage (Adam; paper: 1e-3)",
     ONE(lr_stage1)},
    {.name = "lr_stage2",
     .type = BF_KEY_FLOAT,
     .task = TASK_TRAIN,
     .unit = "",
     .def = "0.001",
     .min = 0.000001,
     .max = 10,
     .choices = "",
     .help = "learning rate of the fine-tuning stage (SGD; paper: 1e-3)",
     ONE(lr_stage2)},
    {.name = "lr_baseline",
     .type = BF_KEY_FLOAT,
     .task = TASK_TRAIN,
     .unit = "",
     .def = "0.001",
     .min = 0.000001,
     .max = 10,
     .choices = "",
     .help = "learning rate of naive, kd, hnd, ae-split and "
             "spinn-split (paper: 1e-3)",
     ONE(lr_baseline)},
    {.name = "batch_stage1",
     .type = BF_KEY_INT,
     .task = TASK_TRAIN,
     .unit = "images",
     .def = "64",
     .min = 1,
     .max = 4096,
     .choices = "",
     .help = "images per step of the GHND stage (paper: 64)",
     ONE(batch_stage1)},
    {.name = "batch_stage2",
     .type = BF_KEY_INT,
     .task = TASK_TRAIN,
     .unit = "images",
     .def = "64",
     .min = 1,
     .max = 4096,
     .choices = "",
     .help = "images per step of the fine-tuning stage (paper: 64)",
     ONE(batch_stage2)},
    {.name = "batch_baseline",
     .type = BF_KEY_INT,
     .task = TASK_TRAIN,
     .unit = "images",
     .def = "32",
     .min = 1,
     .max = 4096,
     .choices = "",
     .help = "images per step of the baselines (paper: 32)",
     ONE(batch_baseline)},
    {.name = "momentum",
     .type = BF_KEY_FLOAT,
     .task = TASK_TRAIN,
     .unit = "",
     .def = "0.9",
     .min = 0,
     .max = 0.999,
     .choices = "",
     .help = "SGD momentum of stage 2 and the naive and kd "
             "baselines (paper: 0.9)",
     ONE(momentum)},
    {.name = "weight_decay_stage2",
     .type = BF_KEY_FLOAT,
     .task = TASK_TRAIN,
     .unit = "",
     .def = "0.0005",
     .min = 0,
     .max = 1,
     .choices = "",
     .help = "weight decay of the fine-tuning stage (paper: 5e-4)",
     ONE(weight_decay_stage2)},
    {.name = "weight_decay_baseline",
     .type = BF_KEY_FLOAT,
     .task = TASK_TRAIN,
     .unit = "",
     .def = "0.0001",
     .min = 0,
     .max = 1,
     .choices = "",
     .help = "weight decay of the naive and kd baselines (paper: 1e-4; the "
             "Adam phases use none)",
     ONE(weight_decay_baseline)},
    {.name = "lr_gamma",
     .type = BF_KEY_FLOAT,
     .task = TASK_TRAIN,
     .unit = "",
     .def = "0.1",
     .min = 0.000001,
     .max = 1,
     .choices = "",
     .help = "learning-rate factor at each step (half a stage, "
             "a quarter of a baseline; paper: 0.1)",
     ONE(lr_gamma)},
    {.name = "max_batches",
     .type = BF_KEY_INT,
     .task = TASK_TRAIN,
     .unit = "batches",
     .def = "0",
     .min = 0,
     .max = 1000000000,
     .choices = "",
     .help = "cap on batches per epoch; 0 = all",
     ONE(max_batches)},
    {.name = "frozen_bn_train",
     .type = BF_KEY_BOOL,
     .task = TASK_TRAIN,
     .unit = "",
     .def = "true",
     .choices = "",
     .help = "frozen stages that run keep updating BatchNorm "
             "statistics where the published code lets them "
             "(GHND's stage3/stage4, stage 2's frozen encoder); "
             "false: every frozen stage in eval mode",
     ONE(frozen_bn_train)},
    {.name = "augment",
     .type = BF_KEY_BOOL,
     .task = TASK_TRAIN,
     .unit = "",
     .def = "true",
     .choices = "",
     .help = "random flip and 2-pixel shift of small training "
             "images",
     ONE(augment)},
    {.name = "kd_temperature",
     .type = BF_KEY_FLOAT,
     .task = TASK_TRAIN,
     .unit = "",
     .def = "1.0",
     .min = 0.01,
     .max = 100,
     .choices = "",
     .help = "softmax temperature T of the KD loss",
     ONE(kd_temperature)},
    {.name = "kd_alpha",
     .type = BF_KEY_FLOAT,
     .task = TASK_TRAIN,
     .unit = "",
     .def = "0.5",
     .min = 0,
     .max = 1,
     .choices = "",
     .help = "weight of the label term in KD",
     ONE(kd_alpha)},
    {.name = "jpeg_qualities",
     .type = BF_KEY_INT,
     .task = TASK_TRAIN,
     .unit = "",
     .def = "[10,20,30,40,50,60,70,80,90,95]",
     .min = 1,
     .max = 100,
     .choices = "",
     .help = "JPEG qualities of the input-compression "
             "baseline",
     VALUES(jpeg_qualities, n_jpeg_qualities)},
    {.name = "jpeg_reference_quality",
     .type = BF_KEY_INT,
     .task = TASK_TRAIN,
     .unit = "",
     .def = "90",
     .min = 1,
     .max = 100,
     .choices = "",
     .help = "JPEG quality the compression rate "
             "is measured against",
     ONE(jpeg_reference_quality)},
    {.name = "exit_thresholds",
     .type = BF_KEY_FLOAT,
     .task = TASK_TRAIN,
     .unit = "",
     .def = "[0.5,0.7,0.8,0.9,0.95,0.99,0.999]",
     .min = 0,
     .max = 1,
     .choices = "",
     .help = "spinn-split exit rule: leave at the "
             "first exit whose softmax confidence "
             "reaches the threshold",
     VALUES(exit_thresholds, n_exit_thresholds)},
    {.name = "image_size_px",
     .type = BF_KEY_INT,
     .task = TASK_TRAIN,
     .unit = "px",
     .def = "224",
     .min = 8,
     .max = 1024,
     .choices = "",
     .help = "folder data: crop side (eval resizes the "
             "shorter side to size * 256 / 224 first)",
     ONE(image_size_px)},
    {.name = "link",
     .type = BF_KEY_ENUM,
     .task = TASK_INFERENCE,
     .unit = "",
     .def = "ideal",
     .choices = "ideal|fixed|trace|tbf|direct",
     .help = "how offloaded requests travel: emulated in user space "
             "(ideal, fixed, trace), shaped by the kernel between "
             "namespaces (tbf, root), or a real network (direct)",
     ONE(link)},
    {.name = "link_rate_mbps",
     .type = BF_KEY_FLOAT,
     .task = TASK_INFERENCE,
     .unit = "Mbit/s",
     .def = "20",
     .min = 0.001,
     .max = 100000,
     .choices = "",
     .help = "uplink rate (fixed, tbf)",
     CASES(link_rate_mbps)},
    {.name = "link_down_rate_mbps",
     .type = BF_KEY_FLOAT,
     .task = TASK_INFERENCE,
     .unit = "Mbit/s",
     .def = "0",
     .min = 0,
     .max = 100000,
     .choices = "",
     .help = "downlink rate for replies (fixed, "
             "trace); 0 = the uplink's",
     ONE(link_down_rate_mbps)},
    {.name = "link_rtt_ms",
     .type = BF_KEY_FLOAT,
     .task = TASK_INFERENCE,
     .unit = "ms",
     .def = "20",
     .min = 0,
     .max = 10000,
     .choices = "",
     .help = "round-trip propagation delay (fixed, trace)",
     ONE(link_rtt_ms)},
    {.name = "link_jitter_ms",
     .type = BF_KEY_FLOAT,
     .task = TASK_INFERENCE,
     .unit = "ms",
     .def = "0",
     .min = 0,
     .max = 10000,
     .choices = "",
     .help = "one-way delay drawn from +- this (fixed)",
     ONE(link_jitter_ms)},
    {.name = "link_loss",
     .type = BF_KEY_FLOAT,
     .task = TASK_INFERENCE,
     .unit = "",
     .def = "0",
     .min = 0,
     .max = 0.99,
     .choices = "",
     .help = "packet loss probability, each loss costs one "
             "RTT (fixed)",
     ONE(link_loss)},
    {.name = "link_trace",
     .type = BF_KEY_PATH,
     .task = TASK_INFERENCE,
     .unit = "",
     .def = "",
     .choices = "",
     .help = "Mahimahi trace or \"seconds, Mbit/s\" rows "
             "(trace; relative to the scenario file)",
     ONE(link_trace)},
    {.name = "edge_address",
     .type = BF_KEY_STRING,
     .task = TASK_INFERENCE,
     .unit = "",
     .def = "",
     .choices = "",
     .help = "host:port of a `bfbench edge` serving this "
             "scenario (direct)",
     ONE(edge_address)},
    {.name = "edge_workers",
     .type = BF_KEY_INT,
     .task = TASK_INFERENCE,
     .unit = "threads",
     .def = "1",
     .min = 1,
     .max = 64,
     .choices = "",
     .help = "tail threads of the in-process edge server",
     ONE(edge_workers)},
    {.name = "edge_queue",
     .type = BF_KEY_INT,
     .task = TASK_INFERENCE,
     .unit = "requests",
     .def = "16",
     .min = 0,
     .max = 4096,
     .choices = "",
     .help = "requests that may wait at the edge server; "
             "beyond, it answers busy",
     ONE(edge_queue)},
    {.name = "background_clients",
     .type = BF_KEY_INT,
     .task = TASK_INFERENCE,
     .unit = "clients",
     .def = "0",
     .min = 0,
     .max = 64,
     .choices = "",
     .help = "other devices sending the same requests "
             "to the same server, each on its own "
             "link",
     CASES(background_clients)},
    {.name = "edge_jpeg_quality",
     .type = BF_KEY_INT,
     .task = TASK_INFERENCE,
     .unit = "",
     .def = "90",
     .min = 1,
     .max = 100,
     .choices = "",
     .help = "JPEG quality of the edge configuration's "
             "input",
     ONE(edge_jpeg_quality)},
    {.name = "zstd_payload",
     .type = BF_KEY_BOOL,
     .task = TASK_INFERENCE,
     .unit = "",
     .def = "false",
     .choices = "",
     .help = "entropy-code 8-bit tensors with zstd before "
             "sending",
     ONE(zstd_payload)},
    {.name = "exit_threshold",
     .type = BF_KEY_FLOAT,
     .task = TASK_INFERENCE,
     .unit = "",
     .def = "0.9",
     .min = 0,
     .max = 2,
     .choices = "",
     .help = "spinn-split: softmax confidence at which the "
             "device answers from an exit (> 1: never)",
     ONE(exit_threshold)},
    {.name = "request_timeout_ms",
     .type = BF_KEY_INT,
     .task = TASK_INFERENCE,
     .unit = "ms",
     .def = "30000",
     .min = 1,
     .max = 3600000,
     .choices = "",
     .help = "a request without a reply by then fails "
             "its case",
     ONE(request_timeout_ms)},
    {.name = "inputs",
     .type = BF_KEY_ENUM,
     .task = TASK_INFERENCE,
     .unit = "",
     .def = "synthetic",
     .choices = "synthetic|fashion-mnist",
     .help = "split configurations: seeded synthetic images, or "
             "the Fashion-MNIST test set in order (then top-1 "
             "and top-5 are recorded)",
     ONE(inputs)},
    {.name = "devices",
     .type = BF_KEY_STRING,
     .task = TASK_INFERENCE,
     .unit = "",
     .def = "[jetson-nano-10w,raspberry-pi-4]",
     .choices = "",
     .help = "device profiles (scenarios/devices/NAME.yaml or a "
             "path) every case is modeled on; none: no device "
             "model",
     VALUES(devices, n_devices)},
    {.name = "device_overrides",
     .type = BF_KEY_STRING,
     .task = TASK_INFERENCE,
     .unit = "",
     .def = "none",
     .choices = "",
     .help = "PROFILE:FIELD=VALUE replacing a profile's "
             "number, e.g. "
             "raspberry-pi-4:power.idle_mw=2100",
     VALUES(device_overrides, n_device_overrides)},
    {.name = "radio",
     .type = BF_KEY_STRING,
     .task = TASK_INFERENCE,
     .unit = "",
     .def = "wifi",
     .choices = "",
     .help = "radio power preset of the device "
             "(scenarios/channels/NAME.yaml): wifi, lte",
     ONE(radio)},
    {.name = "edge_device",
     .type = BF_KEY_STRING,
     .task = TASK_INFERENCE,
     .unit = "",
     .def = "host",
     .choices = "",
     .help = "server time as measured on this host (host), "
             "or modeled with an edge profile "
             "(edge-server)",
     ONE(edge_device)},
    {.name = "power_probe",
     .type = BF_KEY_STRING,
     .task = TASK_INFERENCE,
     .unit = "",
     .def = "auto",
     .choices = "",
     .help = "power sensor of this host: auto, none, "
             "ina3221, hwmon, rapl (optionally :PATH), or "
             "command:CMD printing watts per line",
     ONE(power_probe)},
    {.name = "power_probe_rate_hz",
     .type = BF_KEY_FLOAT,
     .task = TASK_INFERENCE,
     .unit = "Hz",
     .def = "100",
     .min = 1,
     .max = 10000,
     .choices = "",
     .help = "sampling rate of the power probe",
     ONE(power_probe_rate_hz)},
    {.name = "device",
     .type = BF_KEY_STRING,
     .task = TASK_ANY,
     .unit = "",
     .def = "cpu",
     .choices = "",
     .help = "where libtorch computes: cpu, cuda or cuda:N (the device "
             "side, the edge server, training); refused with exit 3 where "
             "CUDA is missing. Not the modeled `devices`",
     ONE(device)},
    {.name = "train_precision",
     .type = BF_KEY_ENUM,
     .task = TASK_TRAIN,
     .unit = "",
     .def = "fp32",
     .choices = "fp32|bf16",
     .help = "the students' training forwards: fp32, or bf16 under "
             "libtorch's autocast (losses fp32; no fp16: no C++ gradient "
             "scaler); teachers train and every evaluation runs in fp32",
     ONE(train_precision)},
};

const size_t bf__scenario_key_count =
    sizeof(bf__scenario_key_table) / sizeof(bf__scenario_key_table[0]);

_Static_assert(sizeof(bf__scenario_key_table) /
                       sizeof(bf__scenario_key_table[0]) <=
                   KEYS_MAX,
               "more keys than KEYS_MAX");

static const struct bf_scenario_key *const keys = bf__scenario_key_table;

#define NAMED_KEY_NAME(id, name) [id] = name,
static const char *const named[K_NAMED] = {NAMED_KEYS(NAMED_KEY_NAME)};
#undef NAMED_KEY_NAME

const struct bf_scenario_key *bf_scenario_keys(size_t *count)
{
    if (count)
        *count = bf__scenario_key_count;
    return keys;
}

int bf__scenario_find_key(const char *name)
{
    size_t k;

    for (k = 0; k < bf__scenario_key_count; k++)
        if (strcmp(keys[k].name, name) == 0)
            return (int)k;
    return -1;
}

void bf__scenario_name_keys(int k[K_NAMED])
{
    for (int id = 0; id < K_NAMED; id++) {
        k[id] = bf__scenario_find_key(named[id]);
        assert(k[id] >= 0 && "a named key is not in the table");
    }
}

int bf__scenario_applies(const struct bf_scenario_key *key, const char *task)
{
    return strcmp(key->task, TASK_ANY) == 0 || strcmp(key->task, task) == 0;
}

/*
 * Edit distance with adjacent transpositions (optimal string alignment);
 * SIZE_MAX when either word is too long to be worth comparing.
 */
static size_t edit_distance(const char *a, const char *b)
{
    size_t d[SUGGEST_LEN_MAX + 1][SUGGEST_LEN_MAX + 1];
    size_t la = strlen(a), lb = strlen(b);
    size_t i, j;

    if (la > SUGGEST_LEN_MAX || lb > SUGGEST_LEN_MAX)
        return SIZE_MAX;
    for (i = 0; i <= la; i++)
        d[i][0] = i;
    for (j = 0; j <= lb; j++)
        d[0][j] = j;
    for (i = 1; i <= la; i++) {
        for (j = 1; j <= lb; j++) {
            size_t cost = a[i - 1] != b[j - 1];
            size_t best = d[i - 1][j - 1] + cost;

            if (d[i - 1][j] + 1 < best)
                best = d[i - 1][j] + 1;
            if (d[i][j - 1] + 1 < best)
                best = d[i][j - 1] + 1;
            if (i > 1 && j > 1 && a[i - 1] == b[j - 2] &&
                a[i - 2] == b[j - 1] && d[i - 2][j - 2] + 1 < best)
                best = d[i - 2][j - 2] + 1;
            d[i][j] = best;
        }
    }
    return d[la][lb];
}

const char *bf__scenario_suggest_key(const char *word)
{
    const char *best = NULL;
    size_t best_d = 3;
    size_t k;

    for (k = 0; k < bf__scenario_key_count; k++) {
        size_t d = edit_distance(word, keys[k].name);

        if (d < best_d) {
            best_d = d;
            best = keys[k].name;
        }
    }
    return best;
}

const char *bf__scenario_suggest_choice(const char *choices, const char *text,
                                        char *buf, size_t size)
{
    const char *word = choices;
    const char *best = NULL;
    size_t best_d = 3;
    size_t best_len = 0;

    for (;;) {
        const char *bar = strchr(word, '|');
        size_t word_len = bar ? (size_t)(bar - word) : strlen(word);
        char candidate[SUGGEST_LEN_MAX + 1];

        if (word_len <= SUGGEST_LEN_MAX) {
            size_t d;

            memcpy(candidate, word, word_len);
            candidate[word_len] = '\0';
            d = edit_distance(text, candidate);
            if (d < best_d && d < strlen(text)) {
                best_d = d;
                best = word;
                best_len = word_len;
            }
        }
        if (!bar)
            break;
        word = bar + 1;
    }
    if (!best || best_len >= size)
        return NULL;
    memcpy(buf, best, best_len);
    buf[best_len] = '\0';
    return buf;
}

int bf__scenario_is_choice(const char *choices, const char *text)
{
    size_t len = strlen(text);
    const char *word = choices;

    for (;;) {
        const char *bar = strchr(word, '|');
        size_t word_len = bar ? (size_t)(bar - word) : strlen(word);

        if (word_len == len && memcmp(word, text, len) == 0)
            return 1;
        if (!bar)
            return 0;
        word = bar + 1;
    }
}

/* `bfbench keys` */

/*
 * Type column of the key table: "int", "list of int" (expands into cases),
 * "values: int" (a value list), "mapping model->path".
 */
static const char *type_name(const struct bf_scenario_key *key, char *buf,
                             size_t size)
{
    static const char *const names[] = {
        [BF_KEY_INT] = "int",
        [BF_KEY_FLOAT] = "float",
        [BF_KEY_BOOL] = "bool",
        [BF_KEY_STRING] = "string",
        [BF_KEY_ENUM] = "enum",
        [BF_KEY_MODEL] = "model",
        [BF_KEY_PATH] = "path",
        [BF_KEY_DIR] = "dir",
        [BF_KEY_WEIGHTS] = "mapping model->path",
    };
    static const char *const prefixes[] = {
        [BF_KEY_SCALAR] = "",
        [BF_KEY_LIST_CASES] = "list of ",
        [BF_KEY_LIST_VALUES] = "values: ",
    };

    snprintf(buf, size, "%s%s", prefixes[key->is_list], names[key->type]);
    return buf;
}

/* Range column: "1..1024", the enum's choices, or "-". */
static const char *range_text(const struct bf_scenario_key *key, char *buf,
                              size_t size)
{
    switch (key->type) {
    case BF_KEY_INT:
        snprintf(buf, size, "%.0f..%.0f", key->min, key->max);
        break;
    case BF_KEY_FLOAT:
        snprintf(buf, size, "%g..%g", key->min, key->max);
        break;
    case BF_KEY_ENUM:
        snprintf(buf, size, "%s", key->choices);
        break;
    case BF_KEY_MODEL:
        snprintf(buf, size, "zoo names");
        break;
    default:
        snprintf(buf, size, "-");
        break;
    }
    return buf;
}

static const char *default_text(const struct bf_scenario_key *key)
{
    if (key->required)
        return "required";
    return key->def[0] ? key->def : "-";
}

void bf_scenario_keys_print(FILE *out)
{
    static const char *const head[] = {
        "key", "task", "type", "unit", "default", "range/choices", "help"};
    enum { COLUMNS = 6 }; /* before help, which is not padded */
    int width[COLUMNS] = {0};
    char type[32], range[96];
    int k, col;

    for (col = 0; col < COLUMNS; col++)
        width[col] = (int)strlen(head[col]);
    for (k = 0; k < (int)bf__scenario_key_count; k++) {
        const char *cells[COLUMNS] = {
            keys[k].name,
            keys[k].task,
            type_name(&keys[k], type, sizeof(type)),
            keys[k].unit[0] ? keys[k].unit : "-",
            default_text(&keys[k]),
            range_text(&keys[k], range, sizeof(range))};

        for (col = 0; col < COLUMNS; col++)
            if ((int)strlen(cells[col]) > width[col])
                width[col] = (int)strlen(cells[col]);
    }
    fprintf(out, "%-*s  %-*s  %-*s  %-*s  %-*s  %-*s  %s\n", width[0], head[0],
            width[1], head[1], width[2], head[2], width[3], head[3], width[4],
            head[4], width[5], head[5], head[6]);
    for (k = 0; k < (int)bf__scenario_key_count; k++)
        fprintf(out, "%-*s  %-*s  %-*s  %-*s  %-*s  %-*s  %s\n", width[0],
                keys[k].name, width[1], keys[k].task, width[2],
                type_name(&keys[k], type, sizeof(type)), width[3],
                keys[k].unit[0] ? keys[k].unit : "-", width[4],
                default_text(&keys[k]), width[5],
                range_text(&keys[k], range, sizeof(range)), keys[k].help);
}
