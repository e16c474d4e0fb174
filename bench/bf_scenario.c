/*
 * bf_scenario: scenario files -> validated, expanded cases.
 *
 * The text is loaded into a libyaml document; the top-level mapping is then
 * walked in file order, each key checked against the key table and its value
 * parsed into a slot. Absent keys take their default, parsed from the
 * table's text by the same code as the file's values (a list default is
 * written "[a,b,c]"). Two checks run after the loop because they depend on
 * keys that may come later in the file: that every key given applies to the
 * task, and the weights mapping, which refers to the models. Finally the
 * expanding lists of the task, in its order, multiply into the cases.
 */
#define _POSIX_C_SOURCE 200809L
#include "bf_scenario.h"

#include "bf_buf.h"
#include "bf_err.h"
#include "bf_hash.h"
#include "bf_link.h"

#include <yaml.h>

#include <assert.h>
#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* Largest scenario text and largest expanded matrix. */
#define TEXT_MAX ((size_t)1 << 20)

/* Longest key name considered for "did you mean". */
#define SUGGEST_LEN_MAX 32

/* Indices into the key table; the table is in this order. */
enum key_index {
    K_NAME,
    K_SEED,
    K_SEEDS,
    K_CONFIGS,
    K_MODELS,
    K_INPUT_SIZE_PX,
    K_BATCH,
    K_THREADS,
    K_FOLD_BN,
    K_CHANNELS_LAST,
    K_WARMUP,
    K_MIN_SAMPLES,
    K_MIN_DURATION_MS,
    K_MAX_SAMPLES,
    K_REPETITIONS,
    K_WEIGHTS,
    K_TASK,
    K_DATASET,
    K_DATA_DIR,
    K_VAL_FRACTION,
    K_TRAIN_SUBSET,
    K_TEST_SUBSET,
    K_STRATEGIES,
    K_FREEZE_ENCODER,
    K_BOTTLENECK_CHANNELS,
    K_BOTTLENECK_VERSION,
    K_TEACHER_EPOCHS,
    K_TEACHER_LR,
    K_TEACHER_BATCH,
    K_TEACHER_PER_SEED,
    K_EPOCHS_STAGE1,
    K_EPOCHS_STAGE2,
    K_EPOCHS_BASELINE,
    K_LR_STAGE1,
    K_LR_STAGE2,
    K_LR_BASELINE,
    K_BATCH_STAGE1,
    K_BATCH_STAGE2,
    K_BATCH_BASELINE,
    K_MOMENTUM,
    K_WEIGHT_DECAY_STAGE2,
    K_WEIGHT_DECAY_BASELINE,
    K_LR_GAMMA,
    K_MAX_BATCHES,
    K_FROZEN_BN_TRAIN,
    K_AUGMENT,
    K_KD_TEMPERATURE,
    K_KD_ALPHA,
    K_JPEG_QUALITIES,
    K_JPEG_REFERENCE_QUALITY,
    K_EXIT_THRESHOLDS,
    K_IMAGE_SIZE_PX,
    K_LINK,
    K_LINK_RATE_MBPS,
    K_LINK_DOWN_RATE_MBPS,
    K_LINK_RTT_MS,
    K_LINK_JITTER_MS,
    K_LINK_LOSS,
    K_LINK_TRACE,
    K_EDGE_ADDRESS,
    K_EDGE_WORKERS,
    K_EDGE_QUEUE,
    K_BACKGROUND_CLIENTS,
    K_EDGE_JPEG_QUALITY,
    K_ZSTD_PAYLOAD,
    K_EXIT_THRESHOLD,
    K_REQUEST_TIMEOUT_MS,
    K_INPUTS,
    K_DEVICES,
    K_DEVICE_OVERRIDES,
    K_RADIO,
    K_EDGE_DEVICE,
    K_POWER_PROBE,
    K_POWER_PROBE_RATE_HZ,
    K_COUNT
};

/* The values of the task key and of struct bf_scenario_key.task. */
#define TASK_ANY "any"
#define TASK_INFERENCE "inference"
#define TASK_TRAIN "train"

static const struct bf_scenario_key keys[K_COUNT] = {
    [K_NAME] = {.name = "name",
                .type = BF_KEY_STRING,
                .task = TASK_ANY,
                .unit = "",
                .def = "",
                .choices = "",
                .help = "human name of the scenario; default: the file name "
                        "without extension"},
    [K_SEED] = {.name = "seed",
                .type = BF_KEY_INT,
                .task = TASK_ANY,
                .unit = "",
                .def = "1",
                .min = 0,
                .max = 9007199254740991.0,
                .choices = "",
                .help = "drives every random choice; train: the data split, "
                        "subsets and teacher (and the students without "
                        "`seeds`)"},
    [K_SEEDS] = {.name = "seeds",
                 .type = BF_KEY_INT,
                 .task = TASK_TRAIN,
                 .is_list = BF_KEY_LIST_CASES,
                 .unit = "",
                 .def = "seed",
                 .min = 0,
                 .max = 9007199254740991.0,
                 .choices = "",
                 .help = "training seeds, one case each: the student's "
                         "initialisation, batch order and augmentation; the "
                         "data split and test items stay those of `seed`"},
    [K_CONFIGS] = {.name = "configs",
                   .type = BF_KEY_ENUM,
                   .task = TASK_INFERENCE,
                   .is_list = BF_KEY_LIST_CASES,
                   .unit = "",
                   .def = "local",
                   .choices = "local|edge|bottlefit|ae-split|spinn-split",
                   .help = "split-computing configurations to run"},
    [K_MODELS] = {.name = "models",
                  .type = BF_KEY_MODEL,
                  .task = TASK_ANY,
                  .is_list = BF_KEY_LIST_CASES,
                  .required = 1,
                  .unit = "",
                  .def = "",
                  .choices = "",
                  .help = "model architectures (see `bfbench models`)"},
    [K_INPUT_SIZE_PX] = {.name = "input_size_px",
                         .type = BF_KEY_INT,
                         .task = TASK_INFERENCE,
                         .is_list = BF_KEY_LIST_CASES,
                         .unit = "px",
                         .def = "0",
                         .min = 0,
                         .max = 4096,
                         .choices = "",
                         .help = "input height = width; 0 = the model's "
                                 "native size"},
    [K_BATCH] = {.name = "batch",
                 .type = BF_KEY_INT,
                 .task = TASK_INFERENCE,
                 .is_list = BF_KEY_LIST_CASES,
                 .unit = "images",
                 .def = "1",
                 .min = 1,
                 .max = 1024,
                 .choices = "",
                 .help = "images per forward"},
    [K_THREADS] = {.name = "threads",
                   .type = BF_KEY_INT,
                   .task = TASK_ANY,
                   .is_list = BF_KEY_LIST_CASES,
                   .unit = "",
                   .def = "0",
                   .min = 0,
                   .max = 256,
                   .choices = "",
                   .help = "intra-op threads; 0 = online cores (train: one "
                           "value, for every case)"},
    [K_FOLD_BN] = {.name = "fold_bn",
                   .type = BF_KEY_BOOL,
                   .task = TASK_INFERENCE,
                   .is_list = BF_KEY_LIST_CASES,
                   .unit = "",
                   .def = "true",
                   .choices = "",
                   .help = "BatchNorm folded into the preceding convolution "
                           "(inference path)"},
    [K_CHANNELS_LAST] = {.name = "channels_last",
                         .type = BF_KEY_BOOL,
                         .task = TASK_INFERENCE,
                         .is_list = BF_KEY_LIST_CASES,
                         .unit = "",
                         .def = "false",
                         .choices = "",
                         .help = "NHWC memory format"},
    [K_WARMUP] = {.name = "warmup",
                  .type = BF_KEY_INT,
                  .task = TASK_INFERENCE,
                  .unit = "iterations",
                  .def = "5",
                  .min = 0,
                  .max = 100000,
                  .choices = "",
                  .help = "untimed iterations per case"},
    [K_MIN_SAMPLES] = {.name = "min_samples",
                       .type = BF_KEY_INT,
                       .task = TASK_INFERENCE,
                       .unit = "samples",
                       .def = "30",
                       .min = 1,
                       .max = 10000000,
                       .choices = "",
                       .help = "timed samples: at least this many ..."},
    [K_MIN_DURATION_MS] = {.name = "min_duration_ms",
                           .type = BF_KEY_INT,
                           .task = TASK_INFERENCE,
                           .unit = "ms",
                           .def = "2000",
                           .min = 0,
                           .max = 86400000,
                           .choices = "",
                           .help = "... and at least this long"},
    [K_MAX_SAMPLES] = {.name = "max_samples",
                       .type = BF_KEY_INT,
                       .task = TASK_INFERENCE,
                       .unit = "samples",
                       .def = "100000",
                       .min = 1,
                       .max = 100000000,
                       .choices = "",
                       .help = "cap on timed samples per case; must be >= "
                               "min_samples"},
    [K_REPETITIONS] = {.name = "repetitions",
                       .type = BF_KEY_INT,
                       .task = TASK_INFERENCE,
                       .unit = "rounds",
                       .def = "1",
                       .min = 1,
                       .max = 1000,
                       .choices = "",
                       .help = "rounds over every case, each case measured "
                               "once a round into its own case row (same "
                               "hash): independent repetitions for compare"},
    [K_WEIGHTS] = {.name = "weights",
                   .type = BF_KEY_WEIGHTS,
                   .task = TASK_ANY,
                   .unit = "",
                   .def = "{}",
                   .choices = "",
                   .help = "mapping model -> weights file (path relative to "
                           "the scenario file); absent: random init"},
    [K_TASK] = {.name = "task",
                .type = BF_KEY_ENUM,
                .task = TASK_ANY,
                .unit = "",
                .def = TASK_INFERENCE,
                .choices = TASK_INFERENCE "|" TASK_TRAIN,
                .help = "what the cases do: time inference, or train and "
                        "evaluate models"},
    [K_DATASET] = {.name = "dataset",
                   .type = BF_KEY_ENUM,
                   .task = TASK_TRAIN,
                   .unit = "",
                   .def = "fashion-mnist",
                   .choices = "fashion-mnist|idx|folder",
                   .help = "training and evaluation data; idx and folder "
                           "need data_dir"},
    [K_DATA_DIR] = {.name = "data_dir",
                    .type = BF_KEY_DIR,
                    .task = TASK_TRAIN,
                    .unit = "",
                    .def = "",
                    .choices = "",
                    .help = "IDX files or an ImageFolder root with train/ and "
                            "val/ (relative to the scenario file); absent: "
                            "/usr/share/datasets/fashion-mnist"},
    [K_VAL_FRACTION] = {.name = "val_fraction",
                        .type = BF_KEY_FLOAT,
                        .task = TASK_TRAIN,
                        .unit = "",
                        .def = "0.1",
                        .min = 0.01,
                        .max = 0.5,
                        .choices = "",
                        .help = "share of the training split held out for "
                                "model selection"},
    [K_TRAIN_SUBSET] = {.name = "train_subset",
                        .type = BF_KEY_INT,
                        .task = TASK_TRAIN,
                        .unit = "items",
                        .def = "0",
                        .min = 0,
                        .max = 100000000,
                        .choices = "",
                        .help = "training items used; 0 = all"},
    [K_TEST_SUBSET] = {.name = "test_subset",
                       .type = BF_KEY_INT,
                       .task = TASK_TRAIN,
                       .unit = "items",
                       .def = "0",
                       .min = 0,
                       .max = 100000000,
                       .choices = "",
                       .help = "test items evaluated; 0 = all"},
    [K_STRATEGIES] = {.name = "strategies",
                      .type = BF_KEY_ENUM,
                      .task = TASK_TRAIN,
                      .is_list = BF_KEY_LIST_CASES,
                      .unit = "",
                      .def = "bottlefit",
                      .choices = "naive|kd|hnd|ghnd|ghnd-ft|ghnd-kd|bottlefit|"
                                 "ae-split|spinn-split",
                      .help = "training strategies and baselines"},
    [K_FREEZE_ENCODER] = {.name = "freeze_encoder",
                          .type = BF_KEY_BOOL,
                          .task = TASK_TRAIN,
                          .is_list = BF_KEY_LIST_CASES,
                          .unit = "",
                          .def = "true",
                          .choices = "",
                          .help = "encoder frozen in stage 2 (the FE "
                                  "variants)"},
    [K_BOTTLENECK_CHANNELS] = {.name = "bottleneck_channels",
                               .type = BF_KEY_INT,
                               .task = TASK_ANY,
                               .is_list = BF_KEY_LIST_CASES,
                               .unit = "channels",
                               .def = "3",
                               .min = 1,
                               .max = 512,
                               .choices = "",
                               .help = "channels C of the transmitted "
                                       "bottleneck"},
    [K_BOTTLENECK_VERSION] = {.name = "bottleneck_version",
                              .type = BF_KEY_INT,
                              .task = TASK_ANY,
                              .is_list = BF_KEY_LIST_CASES,
                              .unit = "",
                              .def = "2",
                              .min = 1,
                              .max = 3,
                              .choices = "",
                              .help = "placement of the bottleneck (1 and 3 "
                                      "exist for ResNets only)"},
    [K_TEACHER_EPOCHS] = {.name = "teacher_epochs",
                          .type = BF_KEY_INT,
                          .task = TASK_TRAIN,
                          .unit = "epochs",
                          .def = "15",
                          .min = 1,
                          .max = 1000,
                          .choices = "",
                          .help = "epochs of a teacher trained here (cached)"},
    [K_TEACHER_LR] = {.name = "teacher_lr",
                      .type = BF_KEY_FLOAT,
                      .task = TASK_TRAIN,
                      .unit = "",
                      .def = "0.1",
                      .min = 0.000001,
                      .max = 10,
                      .choices = "",
                      .help = "SGD learning rate of the teacher"},
    [K_TEACHER_BATCH] = {.name = "teacher_batch",
                         .type = BF_KEY_INT,
                         .task = TASK_TRAIN,
                         .unit = "images",
                         .def = "128",
                         .min = 1,
                         .max = 4096,
                         .choices = "",
                         .help = "images per SGD step of the teacher"},
    [K_TEACHER_PER_SEED] = {.name = "teacher_per_seed",
                            .type = BF_KEY_BOOL,
                            .task = TASK_TRAIN,
                            .unit = "",
                            .def = "false",
                            .choices = "",
                            .help = "false: every seed distils from one "
                                    "teacher (trained with `seed`, as the "
                                    "paper's one pretrained teacher); true: "
                                    "each seed trains its own"},
    [K_EPOCHS_STAGE1] = {.name = "epochs_stage1",
                         .type = BF_KEY_INT,
                         .task = TASK_TRAIN,
                         .unit = "epochs",
                         .def = "10",
                         .min = 0,
                         .max = 1000,
                         .choices = "",
                         .help = "GHND stage (paper: 10)"},
    [K_EPOCHS_STAGE2] = {.name = "epochs_stage2",
                         .type = BF_KEY_INT,
                         .task = TASK_TRAIN,
                         .unit = "epochs",
                         .def = "10",
                         .min = 0,
                         .max = 1000,
                         .choices = "",
                         .help = "fine-tuning stage (paper: 10)"},
    [K_EPOCHS_BASELINE] = {.name = "epochs_baseline",
                           .type = BF_KEY_INT,
                           .task = TASK_TRAIN,
                           .unit = "epochs",
                           .def = "20",
                           .min = 0,
                           .max = 1000,
                           .choices = "",
                           .help = "naive, kd, hnd and autoencoder baselines "
                                   "(paper: 20)"},
    [K_LR_STAGE1] = {.name = "lr_stage1",
                     .type = BF_KEY_FLOAT,
                     .task = TASK_TRAIN,
                     .unit = "",
                     .def = "0.001",
                     .min = 0.000001,
                     .max = 10,
                     .choices = "",
                     .help =
                         "learning rate of the GHND stage (Adam; paper: 1e-3)"},
    [K_LR_STAGE2] =
        {.name = "lr_stage2",
         .type = BF_KEY_FLOAT,
         .task = TASK_TRAIN,
         .unit = "",
         .def = "0.001",
         .min = 0.000001,
         .max = 10,
         .choices = "",
         .help = "learning rate of the fine-tuning stage (SGD; paper: 1e-3)"},
    [K_LR_BASELINE] = {.name = "lr_baseline",
                       .type = BF_KEY_FLOAT,
                       .task = TASK_TRAIN,
                       .unit = "",
                       .def = "0.001",
                       .min = 0.000001,
                       .max = 10,
                       .choices = "",
                       .help = "learning rate of naive, kd, hnd, ae-split and "
                               "spinn-split (paper: 1e-3)"},
    [K_BATCH_STAGE1] = {.name = "batch_stage1",
                        .type = BF_KEY_INT,
                        .task = TASK_TRAIN,
                        .unit = "images",
                        .def = "64",
                        .min = 1,
                        .max = 4096,
                        .choices = "",
                        .help =
                            "images per step of the GHND stage (paper: 64)"},
    [K_BATCH_STAGE2] =
        {.name = "batch_stage2",
         .type = BF_KEY_INT,
         .task = TASK_TRAIN,
         .unit = "images",
         .def = "64",
         .min = 1,
         .max = 4096,
         .choices = "",
         .help = "images per step of the fine-tuning stage (paper: 64)"},
    [K_BATCH_BASELINE] = {.name = "batch_baseline",
                          .type = BF_KEY_INT,
                          .task = TASK_TRAIN,
                          .unit = "images",
                          .def = "32",
                          .min = 1,
                          .max = 4096,
                          .choices = "",
                          .help =
                              "images per step of the baselines (paper: 32)"},
    [K_MOMENTUM] = {.name = "momentum",
                    .type = BF_KEY_FLOAT,
                    .task = TASK_TRAIN,
                    .unit = "",
                    .def = "0.9",
                    .min = 0,
                    .max = 0.999,
                    .choices = "",
                    .help = "SGD momentum of stage 2 and the naive and kd "
                            "baselines (paper: 0.9)"},
    [K_WEIGHT_DECAY_STAGE2] =
        {.name = "weight_decay_stage2",
         .type = BF_KEY_FLOAT,
         .task = TASK_TRAIN,
         .unit = "",
         .def = "0.0005",
         .min = 0,
         .max = 1,
         .choices = "",
         .help = "weight decay of the fine-tuning stage (paper: 5e-4)"},
    [K_WEIGHT_DECAY_BASELINE] =
        {.name = "weight_decay_baseline",
         .type = BF_KEY_FLOAT,
         .task = TASK_TRAIN,
         .unit = "",
         .def = "0.0001",
         .min = 0,
         .max = 1,
         .choices = "",
         .help = "weight decay of the naive and kd baselines (paper: 1e-4; the "
                 "Adam phases use none)"},
    [K_LR_GAMMA] = {.name = "lr_gamma",
                    .type = BF_KEY_FLOAT,
                    .task = TASK_TRAIN,
                    .unit = "",
                    .def = "0.1",
                    .min = 0.000001,
                    .max = 1,
                    .choices = "",
                    .help = "learning-rate factor at each step (half a stage, "
                            "a quarter of a baseline; paper: 0.1)"},
    [K_MAX_BATCHES] = {.name = "max_batches",
                       .type = BF_KEY_INT,
                       .task = TASK_TRAIN,
                       .unit = "batches",
                       .def = "0",
                       .min = 0,
                       .max = 1000000000,
                       .choices = "",
                       .help = "cap on batches per epoch; 0 = all"},
    [K_FROZEN_BN_TRAIN] = {.name = "frozen_bn_train",
                           .type = BF_KEY_BOOL,
                           .task = TASK_TRAIN,
                           .unit = "",
                           .def = "true",
                           .choices = "",
                           .help = "frozen stages keep updating BatchNorm "
                                   "statistics (the published code does)"},
    [K_AUGMENT] = {.name = "augment",
                   .type = BF_KEY_BOOL,
                   .task = TASK_TRAIN,
                   .unit = "",
                   .def = "true",
                   .choices = "",
                   .help = "random flip and 2-pixel shift of small training "
                           "images"},
    [K_KD_TEMPERATURE] = {.name = "kd_temperature",
                          .type = BF_KEY_FLOAT,
                          .task = TASK_TRAIN,
                          .unit = "",
                          .def = "1.0",
                          .min = 0.01,
                          .max = 100,
                          .choices = "",
                          .help = "softmax temperature T of the KD loss"},
    [K_KD_ALPHA] = {.name = "kd_alpha",
                    .type = BF_KEY_FLOAT,
                    .task = TASK_TRAIN,
                    .unit = "",
                    .def = "0.5",
                    .min = 0,
                    .max = 1,
                    .choices = "",
                    .help = "weight of the label term in KD"},
    [K_JPEG_QUALITIES] = {.name = "jpeg_qualities",
                          .type = BF_KEY_INT,
                          .task = TASK_TRAIN,
                          .is_list = BF_KEY_LIST_VALUES,
                          .unit = "",
                          .def = "[10,20,30,40,50,60,70,80,90,95]",
                          .min = 1,
                          .max = 100,
                          .choices = "",
                          .help = "JPEG qualities of the input-compression "
                                  "baseline"},
    [K_JPEG_REFERENCE_QUALITY] = {.name = "jpeg_reference_quality",
                                  .type = BF_KEY_INT,
                                  .task = TASK_TRAIN,
                                  .unit = "",
                                  .def = "90",
                                  .min = 1,
                                  .max = 100,
                                  .choices = "",
                                  .help = "JPEG quality the compression rate "
                                          "is measured against"},
    [K_EXIT_THRESHOLDS] = {.name = "exit_thresholds",
                           .type = BF_KEY_FLOAT,
                           .task = TASK_TRAIN,
                           .is_list = BF_KEY_LIST_VALUES,
                           .unit = "",
                           .def = "[0.5,0.7,0.8,0.9,0.95,0.99,0.999]",
                           .min = 0,
                           .max = 1,
                           .choices = "",
                           .help = "spinn-split exit rule: leave at the "
                                   "first exit whose softmax confidence "
                                   "reaches the threshold"},
    [K_IMAGE_SIZE_PX] = {.name = "image_size_px",
                         .type = BF_KEY_INT,
                         .task = TASK_TRAIN,
                         .unit = "px",
                         .def = "224",
                         .min = 8,
                         .max = 1024,
                         .choices = "",
                         .help = "folder data: crop side (eval resizes the "
                                 "shorter side to size * 256 / 224 first)"},
    [K_LINK] = {.name = "link",
                .type = BF_KEY_ENUM,
                .task = TASK_INFERENCE,
                .unit = "",
                .def = "ideal",
                .choices = "ideal|fixed|trace|tbf|direct",
                .help = "how offloaded requests travel: emulated in user space "
                        "(ideal, fixed, trace), shaped by the kernel between "
                        "namespaces (tbf, root), or a real network (direct)"},
    [K_LINK_RATE_MBPS] = {.name = "link_rate_mbps",
                          .type = BF_KEY_FLOAT,
                          .task = TASK_INFERENCE,
                          .is_list = BF_KEY_LIST_CASES,
                          .unit = "Mbit/s",
                          .def = "20",
                          .min = 0.001,
                          .max = 100000,
                          .choices = "",
                          .help = "uplink rate (fixed, tbf)"},
    [K_LINK_DOWN_RATE_MBPS] = {.name = "link_down_rate_mbps",
                               .type = BF_KEY_FLOAT,
                               .task = TASK_INFERENCE,
                               .unit = "Mbit/s",
                               .def = "0",
                               .min = 0,
                               .max = 100000,
                               .choices = "",
                               .help = "downlink rate for replies (fixed, "
                                       "trace); 0 = the uplink's"},
    [K_LINK_RTT_MS] = {.name = "link_rtt_ms",
                       .type = BF_KEY_FLOAT,
                       .task = TASK_INFERENCE,
                       .unit = "ms",
                       .def = "20",
                       .min = 0,
                       .max = 10000,
                       .choices = "",
                       .help = "round-trip propagation delay (fixed, trace)"},
    [K_LINK_JITTER_MS] = {.name = "link_jitter_ms",
                          .type = BF_KEY_FLOAT,
                          .task = TASK_INFERENCE,
                          .unit = "ms",
                          .def = "0",
                          .min = 0,
                          .max = 10000,
                          .choices = "",
                          .help = "one-way delay drawn from +- this (fixed)"},
    [K_LINK_LOSS] = {.name = "link_loss",
                     .type = BF_KEY_FLOAT,
                     .task = TASK_INFERENCE,
                     .unit = "",
                     .def = "0",
                     .min = 0,
                     .max = 0.99,
                     .choices = "",
                     .help = "packet loss probability, each loss costs one "
                             "RTT (fixed)"},
    [K_LINK_TRACE] = {.name = "link_trace",
                      .type = BF_KEY_PATH,
                      .task = TASK_INFERENCE,
                      .unit = "",
                      .def = "",
                      .choices = "",
                      .help = "Mahimahi trace or \"seconds, Mbit/s\" rows "
                              "(trace; relative to the scenario file)"},
    [K_EDGE_ADDRESS] = {.name = "edge_address",
                        .type = BF_KEY_STRING,
                        .task = TASK_INFERENCE,
                        .unit = "",
                        .def = "",
                        .choices = "",
                        .help = "host:port of a `bfbench edge` serving this "
                                "scenario (direct)"},
    [K_EDGE_WORKERS] = {.name = "edge_workers",
                        .type = BF_KEY_INT,
                        .task = TASK_INFERENCE,
                        .unit = "threads",
                        .def = "1",
                        .min = 1,
                        .max = 64,
                        .choices = "",
                        .help = "tail threads of the in-process edge server"},
    [K_EDGE_QUEUE] = {.name = "edge_queue",
                      .type = BF_KEY_INT,
                      .task = TASK_INFERENCE,
                      .unit = "requests",
                      .def = "16",
                      .min = 0,
                      .max = 4096,
                      .choices = "",
                      .help = "requests that may wait at the edge server; "
                              "beyond, it answers busy"},
    [K_BACKGROUND_CLIENTS] = {.name = "background_clients",
                              .type = BF_KEY_INT,
                              .task = TASK_INFERENCE,
                              .is_list = BF_KEY_LIST_CASES,
                              .unit = "clients",
                              .def = "0",
                              .min = 0,
                              .max = 64,
                              .choices = "",
                              .help = "other devices sending the same requests "
                                      "to the same server, each on its own "
                                      "link"},
    [K_EDGE_JPEG_QUALITY] = {.name = "edge_jpeg_quality",
                             .type = BF_KEY_INT,
                             .task = TASK_INFERENCE,
                             .unit = "",
                             .def = "90",
                             .min = 1,
                             .max = 100,
                             .choices = "",
                             .help = "JPEG quality of the edge configuration's "
                                     "input"},
    [K_ZSTD_PAYLOAD] = {.name = "zstd_payload",
                        .type = BF_KEY_BOOL,
                        .task = TASK_INFERENCE,
                        .unit = "",
                        .def = "false",
                        .choices = "",
                        .help = "entropy-code 8-bit tensors with zstd before "
                                "sending"},
    [K_EXIT_THRESHOLD] = {.name = "exit_threshold",
                          .type = BF_KEY_FLOAT,
                          .task = TASK_INFERENCE,
                          .unit = "",
                          .def = "0.9",
                          .min = 0,
                          .max = 2,
                          .choices = "",
                          .help =
                              "spinn-split: softmax confidence at which the "
                              "device answers from an exit (> 1: never)"},
    [K_REQUEST_TIMEOUT_MS] = {.name = "request_timeout_ms",
                              .type = BF_KEY_INT,
                              .task = TASK_INFERENCE,
                              .unit = "ms",
                              .def = "30000",
                              .min = 1,
                              .max = 3600000,
                              .choices = "",
                              .help = "a request without a reply by then fails "
                                      "its case"},
    [K_INPUTS] = {.name = "inputs",
                  .type = BF_KEY_ENUM,
                  .task = TASK_INFERENCE,
                  .unit = "",
                  .def = "synthetic",
                  .choices = "synthetic|fashion-mnist",
                  .help = "split configurations: seeded synthetic images, or "
                          "the Fashion-MNIST test set in order (then top-1 "
                          "and top-5 are recorded)"},
    [K_DEVICES] = {.name = "devices",
                   .type = BF_KEY_STRING,
                   .task = TASK_INFERENCE,
                   .is_list = BF_KEY_LIST_VALUES,
                   .unit = "",
                   .def = "[jetson-nano-10w,raspberry-pi-4]",
                   .choices = "",
                   .help = "device profiles (scenarios/devices/NAME.yaml or a "
                           "path) every case is modeled on; none: no device "
                           "model"},
    [K_DEVICE_OVERRIDES] = {.name = "device_overrides",
                            .type = BF_KEY_STRING,
                            .task = TASK_INFERENCE,
                            .is_list = BF_KEY_LIST_VALUES,
                            .unit = "",
                            .def = "none",
                            .choices = "",
                            .help = "PROFILE:FIELD=VALUE replacing a profile's "
                                    "number, e.g. "
                                    "raspberry-pi-4:power.idle_mw=2100"},
    [K_RADIO] = {.name = "radio",
                 .type = BF_KEY_STRING,
                 .task = TASK_INFERENCE,
                 .unit = "",
                 .def = "wifi",
                 .choices = "",
                 .help = "radio power preset of the device "
                         "(scenarios/channels/NAME.yaml): wifi, lte"},
    [K_EDGE_DEVICE] = {.name = "edge_device",
                       .type = BF_KEY_STRING,
                       .task = TASK_INFERENCE,
                       .unit = "",
                       .def = "host",
                       .choices = "",
                       .help = "server time as measured on this host (host), "
                               "or modeled with an edge profile "
                               "(edge-server)"},
    [K_POWER_PROBE] = {.name = "power_probe",
                       .type = BF_KEY_STRING,
                       .task = TASK_INFERENCE,
                       .unit = "",
                       .def = "auto",
                       .choices = "",
                       .help = "power sensor of this host: auto, none, "
                               "ina3221, hwmon, rapl (optionally :PATH), or "
                               "command:CMD printing watts per line"},
    [K_POWER_PROBE_RATE_HZ] = {.name = "power_probe_rate_hz",
                               .type = BF_KEY_FLOAT,
                               .task = TASK_INFERENCE,
                               .unit = "Hz",
                               .def = "100",
                               .min = 1,
                               .max = 10000,
                               .choices = "",
                               .help = "sampling rate of the power probe"},
};

/* One parsed value and the position of the node it came from. */
struct value {
    long long i; /* INT, BOOL */
    double f;    /* FLOAT */
    char *s;     /* STRING, ENUM, MODEL, PATH, DIR as written; WEIGHTS: model */
    char *path;  /* PATH, DIR, WEIGHTS: resolved; NULL for an absent DIR */
    yaml_mark_t mark;
};

/* The values of one key, from the file or from its default. */
struct slot {
    const yaml_node_t *key_node; /* NULL when the file lacks the key */
    const yaml_node_t *node;     /* the value node, NULL when absent */
    size_t n;                    /* values filled in v */
    struct value *v;
};

/* State of one parse. */
struct parse {
    const char *file; /* name used in messages */
    const char *dir;  /* prefix for relative paths ("" = cwd) */
    size_t dir_len;
    const struct bf_scenario_params *params;
    yaml_document_t *doc;
    yaml_mark_t root_mark;
    struct slot slots[K_COUNT];
};

const struct bf_scenario_key *bf_scenario_keys(size_t *count)
{
    if (count)
        *count = K_COUNT;
    return keys;
}

/*
 * Record "file:line:col: key 'name': what" (or "file:line:col: what" when
 * key is NULL) and return code.
 */
static int at_error(const struct parse *p, int code, yaml_mark_t mark,
                    const char *key, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

static int at_error(const struct parse *p, int code, yaml_mark_t mark,
                    const char *key, const char *fmt, ...)
{
    char what[BF_ERR_DETAIL_MAX];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(what, sizeof(what), fmt, ap);
    va_end(ap);
    if (key)
        return bf_err_set(code, "%s:%zu:%zu: key '%s': %s", p->file,
                          mark.line + 1, mark.column + 1, key, what);
    return bf_err_set(code, "%s:%zu:%zu: %s", p->file, mark.line + 1,
                      mark.column + 1, what);
}

static char *dup_bytes(const char *bytes, size_t len)
{
    char *s = malloc(len + 1);

    if (!s)
        return NULL;
    memcpy(s, bytes, len);
    s[len] = '\0';
    return s;
}

/* Copy a string whose length was checked against size when parsed. */
static void copy_str(char *dst, size_t size, const char *src)
{
    size_t len = strlen(src);

    assert(len < size);
    memcpy(dst, src, len + 1);
    (void)size;
}

static const char *node_kind(const yaml_node_t *node)
{
    switch (node->type) {
    case YAML_SEQUENCE_NODE:
        return "a sequence";
    case YAML_MAPPING_NODE:
        return "a mapping";
    default:
        return "a scalar";
    }
}

static const char *scalar_text(const yaml_node_t *node)
{
    return (const char *)node->data.scalar.value;
}

static int is_quoted(const yaml_node_t *node)
{
    return node->data.scalar.style != YAML_PLAIN_SCALAR_STYLE &&
           node->data.scalar.style != YAML_ANY_SCALAR_STYLE;
}

/* A plain scalar that YAML reads as null: "", "~", "null". */
static int is_null(const yaml_node_t *node)
{
    static const char *const nulls[] = {"", "~", "null", "Null", "NULL"};
    size_t i;

    if (node->type != YAML_SCALAR_NODE || is_quoted(node))
        return 0;
    for (i = 0; i < sizeof(nulls) / sizeof(nulls[0]); i++)
        if (strcmp(scalar_text(node), nulls[i]) == 0)
            return 1;
    return 0;
}

/* What a value of this type looks like, for "expected ..." messages. */
static const char *type_what(enum bf_key_type type)
{
    switch (type) {
    case BF_KEY_INT:
        return "an integer";
    case BF_KEY_FLOAT:
        return "a number";
    case BF_KEY_BOOL:
        return "true or false";
    case BF_KEY_STRING:
        return "a string";
    case BF_KEY_ENUM:
        return "a word";
    case BF_KEY_MODEL:
        return "a model name";
    case BF_KEY_PATH:
        return "a file path";
    case BF_KEY_DIR:
        return "a directory path";
    case BF_KEY_WEIGHTS:
        return "a mapping of model name to weights file";
    }
    return "a value";
}

/*
 * Why path is not a readable regular file, or NULL when it is. The text is
 * borrowed until the next call.
 */
static const char *file_problem(const char *path)
{
    struct stat st;
    FILE *f;

    if (stat(path, &st) != 0)
        return strerror(errno);
    if (!S_ISREG(st.st_mode))
        return "not a regular file";
    f = fopen(path, "rb");
    if (!f)
        return strerror(errno);
    fclose(f);
    return NULL;
}

/* Why path is not a readable directory, or NULL when it is; as above. */
static const char *dir_problem(const char *path)
{
    struct stat st;
    DIR *d;

    if (stat(path, &st) != 0)
        return strerror(errno);
    if (!S_ISDIR(st.st_mode))
        return "not a directory";
    d = opendir(path);
    if (!d)
        return strerror(errno);
    closedir(d);
    return NULL;
}

/*
 * Resolve text against the scenario's directory and check that it names a
 * readable directory (DIR keys) or file (the others). what_prefix goes
 * before the problem in messages ("" or "model 'x': ").
 */
static int resolve_path(const struct parse *p, int k, const char *text,
                        yaml_mark_t mark, const char *what_prefix, char **out)
{
    size_t len = strlen(text);
    size_t dir_len = text[0] == '/' ? 0 : p->dir_len;
    const char *problem;
    char *path;

    if (dir_len + len >= BF_SCENARIO_PATH_MAX)
        return at_error(p, BF_ERANGE, mark, keys[k].name,
                        "%spath longer than %d bytes", what_prefix,
                        BF_SCENARIO_PATH_MAX - 1);
    path = malloc(dir_len + len + 1);
    if (!path)
        return bf_err_set(BF_ENOMEM, "%s: out of memory", p->file);
    memcpy(path, p->dir, dir_len);
    memcpy(path + dir_len, text, len + 1);
    problem =
        keys[k].type == BF_KEY_DIR ? dir_problem(path) : file_problem(path);
    if (problem) {
        int rc = at_error(p, BF_EPARSE, mark, keys[k].name,
                          "%scannot open '%s': %s", what_prefix, path, problem);
        free(path);
        return rc;
    }
    *out = path;
    return 0;
}

static int parse_int(const struct parse *p, int k, const char *text,
                     yaml_mark_t mark, struct value *out)
{
    const struct bf_scenario_key *key = &keys[k];
    char *end;
    long long v;

    errno = 0;
    v = strtoll(text, &end, 10);
    if (end == text || *end != '\0' ||
        !(text[0] == '-' || text[0] == '+' ||
          (text[0] >= '0' && text[0] <= '9')))
        return at_error(p, BF_EPARSE, mark, key->name,
                        "expected an integer, got '%.64s'", text);
    if (errno == ERANGE || v < (long long)key->min || v > (long long)key->max)
        return at_error(p, BF_ERANGE, mark, key->name,
                        "%.64s is out of range %.0f..%.0f", text, key->min,
                        key->max);
    out->i = v;
    return 0;
}

static int parse_float(const struct parse *p, int k, const char *text,
                       yaml_mark_t mark, struct value *out)
{
    const struct bf_scenario_key *key = &keys[k];
    char *end;
    double v;

    errno = 0;
    v = strtod(text, &end);
    if (end == text || *end != '\0' ||
        !(text[0] == '-' || text[0] == '+' || text[0] == '.' ||
          (text[0] >= '0' && text[0] <= '9')))
        return at_error(p, BF_EPARSE, mark, key->name,
                        "expected a number, got '%.64s'", text);
    if (errno == ERANGE || !isfinite(v) || v < key->min || v > key->max)
        return at_error(p, BF_ERANGE, mark, key->name,
                        "%.64s is out of range %g..%g", text, key->min,
                        key->max);
    out->f = v;
    return 0;
}

static int parse_bool(const struct parse *p, int k, const char *text,
                      yaml_mark_t mark, struct value *out)
{
    static const char *const yes[] = {"true", "True", "TRUE"};
    static const char *const no[] = {"false", "False", "FALSE"};
    size_t i;

    for (i = 0; i < 3; i++) {
        if (strcmp(text, yes[i]) == 0) {
            out->i = 1;
            return 0;
        }
        if (strcmp(text, no[i]) == 0) {
            out->i = 0;
            return 0;
        }
    }
    return at_error(p, BF_EPARSE, mark, keys[k].name,
                    "expected true or false, got '%.64s'", text);
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

/* The known key closest to word within edit distance 2, or NULL. */
static const char *suggest_key(const char *word)
{
    const char *best = NULL;
    size_t best_d = 3;
    size_t k;

    for (k = 0; k < K_COUNT; k++) {
        size_t d = edit_distance(word, keys[k].name);

        if (d < best_d) {
            best_d = d;
            best = keys[k].name;
        }
    }
    return best;
}

/*
 * The word of the '|'-separated choices closest to text, within edit
 * distance 2 and less than text's length, copied into buf; NULL when none.
 */
static const char *suggest_choice(const char *choices, const char *text,
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

/* Whether text is one of the '|'-separated words of choices. */
static int is_choice(const char *choices, const char *text)
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

/* The text-valued types: STRING, ENUM, MODEL, PATH, DIR. */
static int parse_text_value(const struct parse *p, int k, const char *text,
                            size_t len, yaml_mark_t mark, struct value *out)
{
    const struct bf_scenario_key *key = &keys[k];

    if (memchr(text, '\0', len))
        return at_error(p, BF_EPARSE, mark, key->name,
                        "value contains a NUL byte");
    switch (key->type) {
    case BF_KEY_STRING:
        if (len >= BF_SCENARIO_NAME_MAX)
            return at_error(p, BF_ERANGE, mark, key->name,
                            "value longer than %d bytes",
                            BF_SCENARIO_NAME_MAX - 1);
        break;
    case BF_KEY_ENUM:
        if (!is_choice(key->choices, text)) {
            char buf[SUGGEST_LEN_MAX + 1];
            const char *guess =
                suggest_choice(key->choices, text, buf, sizeof(buf));

            return at_error(p, BF_EPARSE, mark, key->name,
                            "unknown value '%.64s' (%s%s%schoices: %s)", text,
                            guess ? "did you mean '" : "", guess ? guess : "",
                            guess ? "'? " : "", key->choices);
        }
        break;
    case BF_KEY_MODEL:
        if (len >= BF_SCENARIO_NAME_MAX || !p->params->model_exists(text))
            return at_error(p, BF_EPARSE, mark, key->name,
                            "unknown model '%.64s' (see `bfbench models`)",
                            text);
        break;
    case BF_KEY_PATH:
    case BF_KEY_DIR: {
        int rc;

        if (len == 0)
            return at_error(p, BF_EPARSE, mark, key->name,
                            "expected %s, got an empty string",
                            type_what(key->type));
        rc = resolve_path(p, k, text, mark, "", &out->path);
        if (rc)
            return rc;
        break;
    }
    default:
        assert(0 && "not a text type");
    }
    out->s = dup_bytes(text, len);
    if (!out->s)
        return bf_err_set(BF_ENOMEM, "%s: out of memory", p->file);
    return 0;
}

/*
 * Parse one scalar of key k. quoted: the scalar was quoted in the file,
 * which makes it a string in YAML and so a type error for numbers and bools.
 */
static int parse_scalar(const struct parse *p, int k, const char *text,
                        size_t len, int quoted, yaml_mark_t mark,
                        struct value *out)
{
    const struct bf_scenario_key *key = &keys[k];

    out->mark = mark;
    switch (key->type) {
    case BF_KEY_INT:
    case BF_KEY_FLOAT:
    case BF_KEY_BOOL:
        if (quoted)
            return at_error(p, BF_EPARSE, mark, key->name,
                            "expected %s, got the quoted string '%.64s'",
                            type_what(key->type), text);
        if (key->type == BF_KEY_INT)
            return parse_int(p, k, text, mark, out);
        if (key->type == BF_KEY_FLOAT)
            return parse_float(p, k, text, mark, out);
        return parse_bool(p, k, text, mark, out);
    case BF_KEY_WEIGHTS:
        assert(0 && "weights are a mapping");
        return BF_EINTERNAL;
    default:
        return parse_text_value(p, k, text, len, mark, out);
    }
}

static int values_equal(enum bf_key_type type, const struct value *a,
                        const struct value *b)
{
    switch (type) {
    case BF_KEY_INT:
    case BF_KEY_BOOL:
        return a->i == b->i;
    case BF_KEY_FLOAT:
        return a->f == b->f;
    case BF_KEY_PATH:
    case BF_KEY_DIR:
        return strcmp(a->path, b->path) == 0;
    default:
        return strcmp(a->s, b->s) == 0;
    }
}

/* Parse one scalar node of key k into the next value of its slot. */
static int parse_node(struct parse *p, int k, const yaml_node_t *node)
{
    struct slot *s = &p->slots[k];
    struct value *v;
    size_t i;
    int rc;

    if (node->type != YAML_SCALAR_NODE)
        return at_error(p, BF_EPARSE, node->start_mark, keys[k].name,
                        "expected %s in the list, got %s",
                        type_what(keys[k].type), node_kind(node));
    if (is_null(node))
        return at_error(p, BF_EPARSE, node->start_mark, keys[k].name,
                        "missing value (expected %s)", type_what(keys[k].type));
    v = &s->v[s->n++];
    rc = parse_scalar(p, k, scalar_text(node), node->data.scalar.length,
                      is_quoted(node), node->start_mark, v);
    if (rc)
        return rc;
    for (i = 0; i + 1 < s->n; i++)
        if (values_equal(keys[k].type, &s->v[i], v))
            return at_error(p, BF_EPARSE, node->start_mark, keys[k].name,
                            "duplicate value '%.64s' (first at line %zu, "
                            "column %zu)",
                            scalar_text(node), s->v[i].mark.line + 1,
                            s->v[i].mark.column + 1);
    return 0;
}

/* Parse the value node of key k (anything but the weights mapping). */
static int parse_key(struct parse *p, int k, const yaml_node_t *node)
{
    const struct bf_scenario_key *key = &keys[k];
    struct slot *s = &p->slots[k];
    const char *what = type_what(key->type);
    size_t n = 1;
    size_t i;
    int rc;

    if (node->type == YAML_MAPPING_NODE ||
        (node->type == YAML_SEQUENCE_NODE && !key->is_list))
        return at_error(
            p, BF_EPARSE, node->start_mark, key->name, "expected %s%s, got %s",
            what, key->is_list ? " or a list of them" : "", node_kind(node));
    if (node->type == YAML_SEQUENCE_NODE) {
        n = (size_t)(node->data.sequence.items.top -
                     node->data.sequence.items.start);
        if (n == 0)
            return at_error(p, BF_EPARSE, node->start_mark, key->name,
                            "empty list");
        if (key->is_list == BF_KEY_LIST_VALUES && n > BF_SCENARIO_VALUES_MAX)
            return at_error(p, BF_ERANGE, node->start_mark, key->name,
                            "%zu values, at most %d", n,
                            BF_SCENARIO_VALUES_MAX);
    }
    s->v = calloc(n, sizeof(*s->v));
    if (!s->v)
        return bf_err_set(BF_ENOMEM, "%s: out of memory", p->file);
    if (node->type == YAML_SCALAR_NODE)
        return parse_node(p, k, node);
    for (i = 0; i < n; i++) {
        const yaml_node_t *item =
            yaml_document_get_node(p->doc, node->data.sequence.items.start[i]);

        rc = parse_node(p, k, item);
        if (rc)
            return rc;
    }
    return 0;
}

static int in_models(const struct parse *p, const char *model)
{
    const struct slot *s = &p->slots[K_MODELS];
    size_t i;

    for (i = 0; i < s->n; i++)
        if (strcmp(s->v[i].s, model) == 0)
            return 1;
    return 0;
}

/* The weights mapping; runs after the models are known. */
static int parse_weights(struct parse *p)
{
    struct slot *s = &p->slots[K_WEIGHTS];
    const char *name = keys[K_WEIGHTS].name;
    const yaml_node_t *node = s->node;
    size_t n, i, j;

    if (!node)
        return 0;
    if (node->type != YAML_MAPPING_NODE)
        return at_error(p, BF_EPARSE, node->start_mark, name,
                        "expected %s, got %s", type_what(BF_KEY_WEIGHTS),
                        is_null(node) ? "nothing" : node_kind(node));
    n = (size_t)(node->data.mapping.pairs.top - node->data.mapping.pairs.start);
    if (n == 0)
        return 0;
    s->v = calloc(n, sizeof(*s->v));
    if (!s->v)
        return bf_err_set(BF_ENOMEM, "%s: out of memory", p->file);
    for (i = 0; i < n; i++) {
        const yaml_node_pair_t *pair = &node->data.mapping.pairs.start[i];
        const yaml_node_t *kn = yaml_document_get_node(p->doc, pair->key);
        const yaml_node_t *vn = yaml_document_get_node(p->doc, pair->value);
        struct value *v = &s->v[s->n++];
        char prefix[BF_SCENARIO_NAME_MAX + 16];
        const char *model;
        int rc;

        if (kn->type != YAML_SCALAR_NODE)
            return at_error(p, BF_EPARSE, kn->start_mark, name,
                            "expected a model name, got %s", node_kind(kn));
        model = scalar_text(kn);
        if (!in_models(p, model))
            return at_error(p, BF_EPARSE, kn->start_mark, name,
                            "model '%.64s' is not in models", model);
        for (j = 0; j + 1 < s->n; j++)
            if (strcmp(s->v[j].s, model) == 0)
                return at_error(p, BF_EPARSE, kn->start_mark, name,
                                "duplicate model '%s' (first at line %zu, "
                                "column %zu)",
                                model, s->v[j].mark.line + 1,
                                s->v[j].mark.column + 1);
        v->mark = kn->start_mark;
        v->s = dup_bytes(model, strlen(model));
        if (!v->s)
            return bf_err_set(BF_ENOMEM, "%s: out of memory", p->file);
        snprintf(prefix, sizeof(prefix), "model '%s': ", model);
        if (vn->type != YAML_SCALAR_NODE || is_null(vn))
            return at_error(p, BF_EPARSE, vn->start_mark, name,
                            "%sexpected a file path, got %s", prefix,
                            is_null(vn) ? "nothing" : node_kind(vn));
        if (memchr(scalar_text(vn), '\0', vn->data.scalar.length))
            return at_error(p, BF_EPARSE, vn->start_mark, name,
                            "%spath contains a NUL byte", prefix);
        rc = resolve_path(p, K_WEIGHTS, scalar_text(vn), vn->start_mark, prefix,
                          &v->path);
        if (rc)
            return rc;
        if (p->params->weights_check && v->path &&
            (rc = p->params->weights_check(v->path))) {
            char detail[BF_ERR_DETAIL_MAX];

            snprintf(detail, sizeof(detail), "%s", bf_last_error());
            return at_error(p, rc == BF_ENOMEM ? BF_ENOMEM : BF_EPARSE,
                            vn->start_mark, name, "%s%s", prefix, detail);
        }
    }
    return 0;
}

static int find_key(const char *name)
{
    int k;

    for (k = 0; k < K_COUNT; k++)
        if (strcmp(keys[k].name, name) == 0)
            return k;
    return -1;
}

/* Walk the top-level mapping in file order. */
static int parse_mapping(struct parse *p, const yaml_node_t *root)
{
    const yaml_node_pair_t *pair;
    int rc;

    for (pair = root->data.mapping.pairs.start;
         pair < root->data.mapping.pairs.top; pair++) {
        const yaml_node_t *kn = yaml_document_get_node(p->doc, pair->key);
        const yaml_node_t *vn = yaml_document_get_node(p->doc, pair->value);
        const char *name;
        int k;

        if (kn->type != YAML_SCALAR_NODE)
            return at_error(p, BF_EPARSE, kn->start_mark, NULL,
                            "expected a key name, got %s", node_kind(kn));
        name = scalar_text(kn);
        k = find_key(name);
        if (k < 0) {
            const char *guess = suggest_key(name);

            return at_error(p, BF_EPARSE, kn->start_mark, NULL,
                            "unknown key '%.64s'%s%s%s", name,
                            guess ? " (did you mean '" : "", guess ? guess : "",
                            guess ? "'?)" : "");
        }
        if (p->slots[k].key_node)
            return at_error(p, BF_EPARSE, kn->start_mark, keys[k].name,
                            "duplicate key (first at line %zu, column %zu)",
                            p->slots[k].key_node->start_mark.line + 1,
                            p->slots[k].key_node->start_mark.column + 1);
        p->slots[k].key_node = kn;
        p->slots[k].node = vn;
        if (keys[k].type == BF_KEY_WEIGHTS)
            continue;
        rc = parse_key(p, k, vn);
        if (rc)
            return rc;
    }
    return 0;
}

/*
 * Parse the default of key k into its slot: one value, or the items of a
 * list written "[a,b,c]". An empty default of a PATH or DIR key means
 * absent: the value is "" with no resolved path.
 */
static int parse_default(struct parse *p, int k)
{
    const char *def = keys[k].def;
    struct slot *s = &p->slots[k];
    size_t n = 1;
    const char *c;

    /* `seeds` defaults to the one value of `seed` (given or default: its
     * slot comes first in the table). */
    if (k == K_SEEDS) {
        s->v = calloc(1, sizeof(*s->v));
        if (!s->v)
            return bf_err_set(BF_ENOMEM, "%s: out of memory", p->file);
        s->v[0].mark = p->root_mark;
        s->v[0].i = p->slots[K_SEED].v[0].i;
        s->n = 1;
        return 0;
    }

    if (def[0] == '[')
        for (c = def; *c; c++)
            n += *c == ',';
    s->v = calloc(n, sizeof(*s->v));
    if (!s->v)
        return bf_err_set(BF_ENOMEM, "%s: out of memory", p->file);
    if (!def[0] &&
        (keys[k].type == BF_KEY_PATH || keys[k].type == BF_KEY_DIR)) {
        s->v[0].mark = p->root_mark;
        s->v[0].s = dup_bytes("", 0);
        if (!s->v[0].s)
            return bf_err_set(BF_ENOMEM, "%s: out of memory", p->file);
        s->n = 1;
        return 0;
    }
    if (def[0] != '[') {
        s->n = 1;
        return parse_scalar(p, k, def, strlen(def), 0, p->root_mark, &s->v[0]);
    }
    for (c = def + 1; s->n < n;) {
        char item[32];
        size_t len = strcspn(c, ",]");
        int rc;

        /* The table's defaults are literals; only a typo can fail here. */
        assert(len < sizeof(item) && c[len] != '\0');
        memcpy(item, c, len);
        item[len] = '\0';
        rc = parse_scalar(p, k, item, len, 0, p->root_mark, &s->v[s->n++]);
        assert(rc == 0);
        if (rc)
            return rc;
        c += len + 1;
    }
    return 0;
}

/* Give every absent key its default, parsed from the table's text. */
static int apply_defaults(struct parse *p)
{
    int k;
    int rc;

    for (k = 0; k < K_COUNT; k++) {
        struct slot *s = &p->slots[k];

        if (s->key_node || keys[k].type == BF_KEY_WEIGHTS)
            continue;
        if (keys[k].required)
            return at_error(p, BF_EPARSE, p->root_mark, keys[k].name,
                            "required key is missing");
        rc = parse_default(p, k);
        if (rc)
            return rc;
    }
    return 0;
}

static enum bf_task task_of(const struct parse *p)
{
    return strcmp(p->slots[K_TASK].v[0].s, TASK_TRAIN) == 0 ? BF_TASK_TRAIN
                                                            : BF_TASK_INFERENCE;
}

static int applies(const struct bf_scenario_key *key, const char *task)
{
    return strcmp(key->task, TASK_ANY) == 0 || strcmp(key->task, task) == 0;
}

/*
 * Every key given must apply to the task, which may come anywhere in the
 * file; the first offender in file order is reported.
 */
static int check_task(const struct parse *p)
{
    const char *task = p->slots[K_TASK].v[0].s;
    const yaml_node_t *first = NULL;
    int first_k = -1;
    int k;

    for (k = 0; k < K_COUNT; k++) {
        const yaml_node_t *kn = p->slots[k].key_node;

        if (kn && !applies(&keys[k], task) &&
            (!first || kn->start_mark.index < first->start_mark.index)) {
            first = kn;
            first_k = k;
        }
    }
    if (!first) {
        const struct slot *t = &p->slots[K_THREADS];

        if (strcmp(task, TASK_TRAIN) == 0 && t->n > 1)
            return at_error(p, BF_EPARSE, t->v[1].mark, keys[K_THREADS].name,
                            "a train scenario takes one thread count");
        return 0;
    }
    return at_error(p, BF_EPARSE, first->start_mark, keys[first_k].name,
                    "applies to task '%s' (this scenario's task is '%s')",
                    keys[first_k].task, task);
}

/* 1 when a configuration other than local is listed. */
static int offloads(const struct parse *p)
{
    const struct slot *s = &p->slots[K_CONFIGS];

    for (size_t i = 0; i < s->n; i++)
        if (strcmp(s->v[i].s, "local") != 0)
            return 1;
    return 0;
}

static long long max_batch(const struct parse *p)
{
    const struct slot *s = &p->slots[K_BATCH];
    long long m = 0;

    for (size_t i = 0; i < s->n; i++)
        m = s->v[i].i > m ? s->v[i].i : m;
    return m;
}

/* Checks that involve more than one key. */
static int check_across(const struct parse *p)
{
    const struct value *min = &p->slots[K_MIN_SAMPLES].v[0];
    const struct value *max = &p->slots[K_MAX_SAMPLES].v[0];
    const struct value *dataset = &p->slots[K_DATASET].v[0];

    /* Only fashion-mnist has a default directory. */
    if (task_of(p) == BF_TASK_TRAIN &&
        strcmp(dataset->s, "fashion-mnist") != 0 &&
        !p->slots[K_DATA_DIR].v[0].path)
        return at_error(p, BF_EPARSE, dataset->mark, keys[K_DATASET].name,
                        "'%s' needs data_dir", dataset->s);
    if (task_of(p) == BF_TASK_INFERENCE) {
        const struct value *link = &p->slots[K_LINK].v[0];

        const struct value *trace = &p->slots[K_LINK_TRACE].v[0];

        if (strcmp(link->s, "trace") == 0 && !trace->path)
            return at_error(p, BF_EPARSE, link->mark, keys[K_LINK].name,
                            "'trace' needs link_trace");
        /* The trace's rows are read now, not when the first case opens its
         * link: a malformed row fails the load, naming file:line. */
        if (strcmp(link->s, "trace") == 0) {
            struct bf_link_params lp = {.kind = "trace",
                                        .trace_path = trace->path};
            struct bf_link *l = NULL;
            int rc = bf_link_open(&lp, &l);

            bf_link_close(l);
            if (rc) {
                char detail[BF_ERR_DETAIL_MAX];

                snprintf(detail, sizeof(detail), "%s", bf_last_error());
                return at_error(p, rc == BF_ENOMEM ? BF_ENOMEM : BF_EPARSE,
                                trace->mark, keys[K_LINK_TRACE].name, "%s",
                                detail);
            }
        }
        if (strcmp(link->s, "direct") == 0 &&
            !p->slots[K_EDGE_ADDRESS].v[0].s[0])
            return at_error(p, BF_EPARSE, link->mark, keys[K_LINK].name,
                            "'direct' needs edge_address (host:port)");
        if (offloads(p) && max_batch(p) > 1)
            return at_error(p, BF_ERANGE, p->slots[K_BATCH].v[0].mark,
                            keys[K_BATCH].name,
                            "offloading configurations run batch 1");
    }
    if (max->i >= min->i)
        return 0;
    if (p->slots[K_MAX_SAMPLES].key_node)
        return at_error(p, BF_ERANGE, max->mark, keys[K_MAX_SAMPLES].name,
                        "%lld is less than min_samples (%lld)", max->i, min->i);
    return at_error(p, BF_ERANGE, min->mark, keys[K_MIN_SAMPLES].name,
                    "%lld is greater than max_samples (%lld)", min->i, max->i);
}

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
            applies(&keys[k], TASK_INFERENCE))
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
    if (parse_default(&tmp, k) == 0 &&
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
static int expand(const struct parse *p, struct bf_scenario *sc)
{
    int order[K_COUNT];
    size_t n_order = expansion_order(task_of(p), order);
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
                applies(&keys[k], TASK_INFERENCE))
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
static void default_name(char *out, size_t size, const char *file)
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

static void fill(const struct parse *p, struct bf_scenario *sc)
{
    const char *name = p->slots[K_NAME].v[0].s;
    const struct slot *q;
    const char *dir;
    size_t i;

    if (name[0])
        copy_str(sc->name, sizeof(sc->name), name);
    else
        default_name(sc->name, sizeof(sc->name), p->file);
    sc->seed = (uint64_t)p->slots[K_SEED].v[0].i;
    sc->warmup = (int)p->slots[K_WARMUP].v[0].i;
    sc->min_samples = (int)p->slots[K_MIN_SAMPLES].v[0].i;
    sc->min_duration_ms = (int64_t)p->slots[K_MIN_DURATION_MS].v[0].i;
    sc->max_samples = (int)p->slots[K_MAX_SAMPLES].v[0].i;
    sc->repetitions = (int)p->slots[K_REPETITIONS].v[0].i;

    sc->task = task_of(p);
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

static void slots_free(struct parse *p)
{
    size_t i;
    int k;

    for (k = 0; k < K_COUNT; k++) {
        struct slot *s = &p->slots[k];

        for (i = 0; i < s->n; i++) {
            free(s->v[i].s);
            free(s->v[i].path);
        }
        free(s->v);
        s->v = NULL;
        s->n = 0;
    }
}

/* Line and column (1-based) of a byte offset, for reader errors. */
static void offset_position(const char *text, size_t len, size_t offset,
                            size_t *line, size_t *column)
{
    size_t i;

    *line = 1;
    *column = 1;
    for (i = 0; i < offset && i < len; i++) {
        if (text[i] == '\n') {
            (*line)++;
            *column = 1;
        } else {
            (*column)++;
        }
    }
}

static int syntax_error(const struct parse *p, const yaml_parser_t *parser,
                        const char *text, size_t len)
{
    const char *problem = parser->problem ? parser->problem : "syntax error";
    size_t line = parser->problem_mark.line + 1;
    size_t column = parser->problem_mark.column + 1;

    if (parser->error == YAML_MEMORY_ERROR)
        return bf_err_set(BF_ENOMEM, "%s: out of memory", p->file);
    if (parser->error == YAML_READER_ERROR)
        offset_position(text, len, parser->problem_offset, &line, &column);
    if (parser->context)
        return bf_err_set(BF_EPARSE, "%s:%zu:%zu: %s (%s at line %zu)", p->file,
                          line, column, problem, parser->context,
                          parser->context_mark.line + 1);
    return bf_err_set(BF_EPARSE, "%s:%zu:%zu: %s", p->file, line, column,
                      problem);
}

/*
 * Load the single YAML document of text into *doc. Returns 0, or an error
 * with *doc already deleted.
 */
/*
 * Refuse collections nested deeper than DEPTH_MAX before building the
 * document: libyaml's loader slows down sharply on deep nesting (100k
 * nested sequences took a minute), and no scenario nests more than a few
 * levels. Reads events only up to the first level too deep. A syntax error
 * is left to the loader, which reports it.
 */
#define DEPTH_MAX 32
static int check_depth(const struct parse *p, const char *text, size_t len)
{
    yaml_parser_t parser;
    yaml_event_t ev;
    int depth = 0, rc = 0, done = 0;

    if (!yaml_parser_initialize(&parser))
        return bf_err_set(BF_ENOMEM, "%s: out of memory", p->file);
    yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
    while (!done && rc == 0 && yaml_parser_parse(&parser, &ev)) {
        if (ev.type == YAML_SEQUENCE_START_EVENT ||
            ev.type == YAML_MAPPING_START_EVENT) {
            if (++depth > DEPTH_MAX)
                rc = at_error(p, BF_ERANGE, ev.start_mark, NULL,
                              "collections nested deeper than %d levels",
                              DEPTH_MAX);
        } else if (ev.type == YAML_SEQUENCE_END_EVENT ||
                   ev.type == YAML_MAPPING_END_EVENT) {
            depth--;
        }
        done = ev.type == YAML_STREAM_END_EVENT;
        yaml_event_delete(&ev);
    }
    yaml_parser_delete(&parser);
    return rc;
}

static int load_document(const struct parse *p, const char *text, size_t len,
                         yaml_document_t *doc)
{
    yaml_parser_t parser;
    yaml_document_t extra;
    yaml_node_t *extra_root;
    int rc = check_depth(p, text, len);

    if (rc)
        return rc;
    if (!yaml_parser_initialize(&parser))
        return bf_err_set(BF_ENOMEM, "%s: out of memory", p->file);
    yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
    if (!yaml_parser_load(&parser, doc)) {
        rc = syntax_error(p, &parser, text, len);
        goto out_parser;
    }
    if (!yaml_document_get_root_node(doc))
        goto out_parser;
    /* A second document, or a syntax error after the first, is an error. */
    if (!yaml_parser_load(&parser, &extra)) {
        rc = syntax_error(p, &parser, text, len);
        goto out_doc;
    }
    extra_root = yaml_document_get_root_node(&extra);
    if (extra_root)
        rc = at_error(p, BF_EPARSE, extra_root->start_mark, NULL,
                      "a scenario is one YAML document, found another");
    yaml_document_delete(&extra);
    if (rc)
        goto out_doc;
    goto out_parser;

out_doc:
    yaml_document_delete(doc);
out_parser:
    yaml_parser_delete(&parser);
    return rc;
}

/* Parse text; dir is the prefix for relative paths. */
static int parse_scenario(const char *file, const char *dir, size_t dir_len,
                          const char *text, size_t len,
                          const struct bf_scenario_params *params,
                          struct bf_scenario **out)
{
    struct parse p = {
        .file = file, .dir = dir, .dir_len = dir_len, .params = params};
    yaml_document_t doc;
    yaml_node_t *root;
    struct bf_scenario *sc;
    int rc;

    if (strlen(file) >= BF_SCENARIO_PATH_MAX)
        return bf_err_set(BF_ERANGE, "scenario path longer than %d bytes",
                          BF_SCENARIO_PATH_MAX - 1);
    if (len > TEXT_MAX)
        return bf_err_set(BF_ERANGE, "%s: scenario larger than %zu bytes", file,
                          TEXT_MAX);
    rc = load_document(&p, text, len, &doc);
    if (rc)
        return rc;
    p.doc = &doc;
    root = yaml_document_get_root_node(&doc);
    if (!root || is_null(root)) {
        rc = bf_err_set(BF_EPARSE, "%s:1:1: empty scenario", file);
        goto out_doc;
    }
    p.root_mark = root->start_mark;
    if (root->type != YAML_MAPPING_NODE) {
        rc = at_error(&p, BF_EPARSE, root->start_mark, NULL,
                      "a scenario is a mapping of keys, got %s",
                      node_kind(root));
        goto out_doc;
    }
    rc = parse_mapping(&p, root);
    if (rc)
        goto out_slots;
    rc = apply_defaults(&p);
    if (rc)
        goto out_slots;
    rc = check_task(&p);
    if (rc)
        goto out_slots;
    rc = parse_weights(&p);
    if (rc)
        goto out_slots;
    rc = check_across(&p);
    if (rc)
        goto out_slots;

    sc = calloc(1, sizeof(*sc));
    if (!sc) {
        rc = bf_err_set(BF_ENOMEM, "%s: out of memory", file);
        goto out_slots;
    }
    copy_str(sc->path, sizeof(sc->path), file);
    fill(&p, sc);
    rc = expand(&p, sc);
    if (rc)
        goto out_sc;
    sc->text = dup_bytes(text, len);
    if (!sc->text) {
        rc = bf_err_set(BF_ENOMEM, "%s: out of memory", file);
        goto out_sc;
    }
    sc->text_len = len;
    *out = sc;
    goto out_slots;

out_sc:
    bf_scenario_free(sc);
out_slots:
    slots_free(&p);
out_doc:
    yaml_document_delete(&doc);
    return rc;
}

int bf_scenario_parse(const char *name, const char *text, size_t len,
                      const struct bf_scenario_params *params,
                      struct bf_scenario **out)
{
    if (out)
        *out = NULL;
    if (!name || (!text && len) || !params || !params->model_exists || !out)
        return bf_err_set(BF_EINVAL, "bf_scenario_parse: invalid argument");
    return parse_scenario(name, "", 0, text ? text : "", len, params, out);
}

int bf_scenario_load(const char *path, const struct bf_scenario_params *params,
                     struct bf_scenario **out)
{
    const char *slash;
    struct bf_buf text;
    int rc;

    if (out)
        *out = NULL;
    if (!path || !params || !params->model_exists || !out)
        return bf_err_set(BF_EINVAL, "bf_scenario_load: invalid argument");
    bf_buf_init(&text);
    rc = bf_buf_read_file(&text, path, TEXT_MAX, "scenario");
    if (rc == 0) {
        slash = strrchr(path, '/');
        rc = parse_scenario(path, path, slash ? (size_t)(slash - path) + 1 : 0,
                            bf_buf_str(&text), text.len, params, out);
    }
    bf_buf_free(&text);
    return rc;
}

/* Suites */

/* Fill out from the suite mapping root (which has a "suite" key). */
static int parse_suite(const struct parse *p, const yaml_node_t *root,
                       struct bf_suite *out)
{
    yaml_node_pair_t *pair;

    for (pair = root->data.mapping.pairs.start;
         pair < root->data.mapping.pairs.top; pair++) {
        yaml_node_t *k = yaml_document_get_node(p->doc, pair->key);
        yaml_node_t *v = yaml_document_get_node(p->doc, pair->value);
        const char *name = k->type == YAML_SCALAR_NODE ? scalar_text(k) : "";
        yaml_node_item_t *item;

        if (strcmp(name, "name") == 0 && v->type == YAML_SCALAR_NODE &&
            !is_null(v)) {
            if (v->data.scalar.length >= sizeof(out->name))
                return at_error(p, BF_ERANGE, v->start_mark, "name",
                                "longer than %zu bytes", sizeof(out->name) - 1);
            copy_str(out->name, sizeof(out->name), scalar_text(v));
            continue;
        }
        if (strcmp(name, "suite") != 0)
            return at_error(p, BF_EPARSE, k->start_mark, NULL,
                            "a suite file holds only 'name' and 'suite' (a "
                            "list of scenario files), got '%.64s'",
                            name);
        if (v->type != YAML_SEQUENCE_NODE ||
            v->data.sequence.items.start == v->data.sequence.items.top)
            return at_error(p, BF_EPARSE, v->start_mark, "suite",
                            "expected a non-empty list of scenario files");
        for (item = v->data.sequence.items.start;
             item < v->data.sequence.items.top; item++) {
            yaml_node_t *f = yaml_document_get_node(p->doc, *item);
            const char *text;
            const char *problem;
            char *path;
            size_t dir_len;

            if (f->type != YAML_SCALAR_NODE || is_null(f))
                return at_error(p, BF_EPARSE, f->start_mark, "suite",
                                "expected a scenario file name, got %s",
                                node_kind(f));
            if (out->n == BF_SUITE_MAX)
                return at_error(p, BF_ERANGE, f->start_mark, "suite",
                                "more than %d scenario files", BF_SUITE_MAX);
            text = scalar_text(f);
            dir_len = text[0] == '/' ? 0 : p->dir_len;
            if (dir_len + strlen(text) >= BF_SCENARIO_PATH_MAX)
                return at_error(p, BF_ERANGE, f->start_mark, "suite",
                                "path longer than %d bytes",
                                BF_SCENARIO_PATH_MAX - 1);
            path = out->paths[out->n];
            memcpy(path, p->dir, dir_len);
            memcpy(path + dir_len, text, strlen(text) + 1);
            if ((problem = file_problem(path)))
                return at_error(p, BF_EPARSE, f->start_mark, "suite",
                                "cannot open '%s': %s", path, problem);
            out->n++;
        }
    }
    return 0;
}

int bf_suite_load(const char *path, struct bf_suite *out)
{
    const char *slash = path ? strrchr(path, '/') : NULL;
    struct parse p = {.file = path,
                      .dir = path,
                      .dir_len = slash ? (size_t)(slash - path) + 1 : 0};
    yaml_document_t doc;
    yaml_node_t *root;
    struct bf_buf text;
    int rc;

    if (!path || !out)
        return bf_err_set(BF_EINVAL, "bf_suite_load: invalid argument");
    memset(out, 0, sizeof(*out));
    default_name(out->name, sizeof(out->name), path);
    bf_buf_init(&text);
    rc = bf_buf_read_file(&text, path, TEXT_MAX, "scenario");
    if (rc == 0)
        rc = load_document(&p, bf_buf_str(&text), text.len, &doc);
    if (rc) {
        bf_buf_free(&text);
        return rc;
    }
    p.doc = &doc;
    root = yaml_document_get_root_node(&doc);
    /* Anything but a mapping with a "suite" key is left to the scenario
     * loader (and its messages). */
    if (root && root->type == YAML_MAPPING_NODE) {
        yaml_node_pair_t *pair;

        for (pair = root->data.mapping.pairs.start;
             pair < root->data.mapping.pairs.top; pair++) {
            yaml_node_t *k = yaml_document_get_node(&doc, pair->key);

            if (k->type == YAML_SCALAR_NODE &&
                strcmp(scalar_text(k), "suite") == 0) {
                rc = parse_suite(&p, root, out);
                break;
            }
        }
    }
    if (rc)
        out->n = 0;
    yaml_document_delete(&doc);
    bf_buf_free(&text);
    return rc;
}

void bf_scenario_free(struct bf_scenario *scenario)
{
    if (!scenario)
        return;
    free(scenario->text);
    free(scenario->cases);
    free(scenario);
}

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
    for (k = 0; k < K_COUNT; k++) {
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
    for (k = 0; k < K_COUNT; k++)
        fprintf(out, "%-*s  %-*s  %-*s  %-*s  %-*s  %-*s  %s\n", width[0],
                keys[k].name, width[1], keys[k].task, width[2],
                type_name(&keys[k], type, sizeof(type)), width[3],
                keys[k].unit[0] ? keys[k].unit : "-", width[4],
                default_text(&keys[k]), width[5],
                range_text(&keys[k], range, sizeof(range)), keys[k].help);
}
