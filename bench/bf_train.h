/*
 * bf_train: training schedules and evaluation, in C over the shim's
 * model-level operations (bf_torch.h).
 *
 * A training run is a list of phases. Each phase trains a contiguous range
 * of the student's stages (the others frozen) with one loss and one
 * schedule (optimizer, learning rate stepped by lr_gamma every
 * milestones, epochs, batch size), so that every strategy of the
 * BottleFit reference is a phase list:
 *
 *   teacher   one phase, CE, all stages (no teacher model)
 *   naive     CE, all stages              kd    KD, all stages
 *   hnd       HND, encoder + decoder      ghnd  GHND, encoder + decoder
 *   ghnd-ft   ghnd, then CE on all but the encoder (fe) or all stages
 *   ghnd-kd   ghnd, then KD on all but the encoder (fe) or all stages
 *   ae-split  RECON, the autoencoder's two stages (an autoencoder-split
 *             student: the unmodified teacher with bf_model_inject_
 *             autoencoder; its stages ae_encoder, ae_decoder sit before
 *             stage3, stage4, classifier)
 *   spinn-split  EXITS, only the early exits (a SPINN-style student: the
 *             unmodified teacher with bf_model_attach_exits; every stage
 *             frozen and in eval mode whatever frozen_bn_train says, since
 *             the backbone must stay the teacher)
 *
 * Losses (student stages after injection: encoder, decoder, stage3,
 * stage4, classifier; the teacher has stem, stage1, stage2, stage3,
 * stage4, classifier): HND = MSE-sum(decoder, teacher stage2); GHND = HND +
 * MSE-sum(stage3, teacher stage3) + MSE-sum(stage4, teacher stage4); CE on
 * the logits; KD = alpha CE + (1 - alpha) T^2 KL(teacher || student);
 * RECON = MSE-sum(the output of the phase's last stage, the input of its
 * first stage), the autoencoder's reconstruction loss; EXITS = the sum over
 * the exits of CE(exit logits, labels).
 *
 * Validation selects by the final classifier's top-1, or for an EXITS
 * phase by the mean top-1 of the exits.
 *
 * After every epoch the model is evaluated on the validation indices (never
 * the test set); the best validation top-1 over all phases is saved to
 * checkpoint_path and loaded back at the end, as the reference keeps the
 * best epoch.
 *
 * The training forward runs only as far as the phase's loss reads (HND:
 * encoder and decoder; GHND: up to stage4; RECON: up to the autoencoder's
 * decoder; CE and KD: everything), as the published code does: stages it
 * does not run keep their BatchNorm statistics. With frozen_bn_train (the
 * default) the frozen stages that run are in train mode where the
 * published code leaves them so (GHND's stage3 and stage4, stage 2's
 * frozen encoder: torchdistill puts the whole student in train mode), so
 * their BatchNorm statistics move; the autoencoder split's frozen head is
 * in eval mode, as its runner sets it. Without frozen_bn_train every
 * frozen stage is in eval mode.
 *
 * Ownership: everything in the parameter structs is borrowed for the call.
 * A nonzero *stop ends training after the current batch with BF_EINTR (the
 * best checkpoint so far is still loaded).
 */
#ifndef BF_TRAIN_H
#define BF_TRAIN_H

#include "bf_dataset.h"
#include "bf_torch.h"

#include <signal.h>
#include <stddef.h>
#include <stdint.h>

enum bf_train_loss {
    BF_TRAIN_LOSS_CE,    /* cross-entropy on the labels */
    BF_TRAIN_LOSS_KD,    /* knowledge distillation from the teacher */
    BF_TRAIN_LOSS_HND,   /* head network distillation at the split */
    BF_TRAIN_LOSS_GHND,  /* generalized HND: split, stage3 and stage4 */
    BF_TRAIN_LOSS_RECON, /* autoencoder reconstruction of its input */
    BF_TRAIN_LOSS_EXITS, /* CE summed over the early exits */
};

struct bf_train_schedule {
    const char *optimizer; /* "sgd" or "adam" */
    double lr;
    double momentum;
    double weight_decay;
    int epochs;
    int batch;
    /* lr *= lr_gamma at the end of epochs floor(epochs * k / lr_parts),
     * k = 1 .. lr_parts - 1 (the reference's milestones, in proportion to
     * the epochs: [5] of 10 with 2 parts, [5, 10, 15] of 20 with 4); when
     * lr_parts < 2, every lr_step_epochs epochs (0: never). */
    int lr_parts;
    int lr_step_epochs;
    double lr_gamma;
    int max_batches; /* per epoch, 0: the whole training split */
};

struct bf_train_phase {
    const char *name; /* "stage1", "stage2", "teacher", ... */
    enum bf_train_loss loss;
    int train_first; /* student stages trained; the rest are frozen */
    int train_last;  /* (both -1 for EXITS: no stage, only the exits) */
    struct bf_train_schedule schedule;
};

/* Training and validation items of one data set. */
struct bf_train_split {
    struct bf_dataset *data;     /* training items (train transforms) */
    struct bf_dataset *val_data; /* the same items with eval transforms;
                                    NULL: data */
    const uint32_t *train_idx;
    size_t n_train;
    const uint32_t *val_idx;
    size_t n_val;
};

/* What the hooks receive after each epoch. */
struct bf_train_epoch {
    const char *phase;
    int epoch; /* 1-based within the phase */
    double lr;
    double train_loss; /* mean over the epoch's batches, as reduced */
    double val_top1;   /* percent */
    double seconds;    /* training time of the epoch, evaluation excluded */
    double images_per_s;
    int best; /* this epoch is the best so far */
    /* train_loss per training image: a loss that sums over the batch (the
     * reference's HND, GHND and autoencoder losses: squared errors summed
     * over images and elements) divided by the images, a mean-reduced one
     * (CE, KD, exits) as it is. */
    double train_loss_per_image;
};

struct bf_train_hooks {
    void *ctx;
    /* Called after every epoch; a nonzero return stops training. */
    int (*epoch)(void *ctx, const struct bf_train_epoch *rec);
};

struct bf_train_params {
    const struct bf_train_split *split;
    bf_model *student;
    bf_model *teacher; /* NULL when only CE phases run */
    const struct bf_train_phase *phases;
    size_t n_phases;
    int frozen_bn_train; /* frozen stages keep updating BatchNorm stats */
    double kd_temperature;
    double kd_alpha;
    int augment; /* random horizontal flip and shift by up to 2 px */
    uint64_t seed;
    int eval_batch;                     /* 0: 256 */
    const char *checkpoint_path;        /* the best-validation weights */
    const struct bf_train_hooks *hooks; /* may be NULL */
    volatile sig_atomic_t *stop;        /* may be NULL */
};

struct bf_train_result {
    double best_val_top1;
    const char *best_phase; /* borrowed from the phases */
    int best_epoch;
    double seconds;
};

/* The strategy names, in the order `bfbench keys` lists them. */
#define BF_TRAIN_STRATEGIES                                                    \
    "naive|kd|hnd|ghnd|ghnd-ft|ghnd-kd|bottlefit|ae-split|spinn-split"

/*
 * The phases of a strategy with the reference's hyper-parameters (section
 * 3 and 4): GHND stage 1 Adam 1e-3, 10 epochs, batch 64, lr / 10 after 5;
 * stage 2 (FT or KD) SGD 1e-3, momentum 0.9, weight decay 5e-4, 10 epochs,
 * batch 64, lr / 10 after 5; naive and KD SGD 1e-3, momentum 0.9, weight
 * decay 1e-4, 20 epochs, batch 32, lr / 10 after 5, 10 and 15; HND and
 * the autoencoder Adam 1e-3, 20 epochs, batch 32, the same steps; the
 * SPINN-style exits the same as HND (an assumption). "bottlefit" is
 * ghnd-kd with the encoder frozen in stage 2 (freeze_encoder is then ignored).
 * n_stages is the student's stage count (5 after injection). Writes at most 2
 * phases; the caller may then override epochs, batch and max_batches. BF_EINVAL
 * names the known strategies.
 */
int bf_train_strategy(const char *name, int freeze_encoder, int n_stages,
                      struct bf_train_phase phases[2], size_t *n_phases);

/* The learning rate of 1-based epoch `epoch` of schedule s (lr_parts or
 * lr_step_epochs, see struct bf_train_schedule). */
double bf_train_lr_at(const struct bf_train_schedule *s, int epoch);

/*
 * The loss of phase ph on one batch (x: images, y: int64 labels): the
 * student's forward with autograd, the teacher's (eval) forward where the
 * loss needs it. *loss is a new scalar tensor the caller owns. The
 * training loop and the training benchmark both take their loss from here.
 */
int bf_train_batch_loss(bf_model *student, bf_model *teacher,
                        const struct bf_train_phase *ph, const bf_tensor *x,
                        const bf_tensor *y, double kd_temperature,
                        double kd_alpha, bf_tensor **loss);

/* Run every phase. Returns 0, BF_EINTR, or a shim/data error. */
int bf_train_run(const struct bf_train_params *params,
                 struct bf_train_result *result);

struct bf_eval_result {
    int64_t n;
    double top1; /* percent */
    double top5; /* percent; top-k with k = min(5, classes) */
    double seconds;
    /* Per image, in evaluation order (n entries each; owned, free with
     * bf_eval_result_free): the predicted class, and 1 when the label is
     * the top-1 / among the top-k. */
    uint16_t *pred;
    uint8_t *top1_ok;
    uint8_t *topk_ok;
};

/* Free the per-image arrays of a result (accepts a zeroed one). */
void bf_eval_result_free(struct bf_eval_result *result);

/*
 * Evaluate model (eval mode, no gradients) on data items idx[0..n) (all
 * items when idx is NULL). quantize_after >= 0 passes the output of that
 * stage through the 8-bit quantizer, per sample, before the rest (the
 * bottleneck as transmitted); -1 evaluates in fp32.
 */
int bf_train_evaluate(bf_model *model, struct bf_dataset *data,
                      const uint32_t *idx, size_t n, int batch,
                      int quantize_after, struct bf_eval_result *out);

/* The exit rule of a SPINN-style model at one confidence threshold. */
struct bf_exit_point {
    double threshold;  /* leave at the first exit with confidence >= it */
    double top1, top5; /* percent, over every image wherever it left */
    double exit_fraction[BF_MODEL_MAX_EXITS]; /* left at exit i */
    double offload_fraction; /* reached the split: the tensor was sent */
    double device_macs;      /* mean per image: stages and exits run */
    double payload_bytes;    /* mean per image: offloaded x (C*H*W + 5) */
};

struct bf_exit_eval {
    int64_t n;
    int n_exits;
    double exit_top1[BF_MODEL_MAX_EXITS]; /* every image classified there */
    double final_top1, final_top5; /* every image offloaded, 8-bit tensor */
    double split_elements;         /* C*H*W of the split tensor */
    double offload_macs;           /* device MACs of an offloaded image */
};

/*
 * Evaluate a model with exits (bf_model_attach_exits) on data items
 * idx[0..n) (all when idx is NULL): each exit's own top-1, the final
 * classifier's with the split tensor 8-bit quantized, and for each of
 * thresholds[0..n_thresholds) the operating point of the exit rule in
 * points[i]. Device MACs count the stages up to where an image left plus
 * every exit it passed.
 */
int bf_train_evaluate_exits(bf_model *model, struct bf_dataset *data,
                            const uint32_t *idx, size_t n, int batch,
                            const double *thresholds, size_t n_thresholds,
                            struct bf_exit_point *points,
                            struct bf_exit_eval *out);

#endif /* BF_TRAIN_H */
