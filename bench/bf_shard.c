/* bf_shard: cost-balanced shards of a scenario's cases. */
#include "bf_shard.h"

#include "bf_err.h"

#include <stdlib.h>
#include <string.h>

double bf_shard_work(const struct bf_scenario *sc, const struct bf_case *c)
{
    if (sc->task == BF_TASK_TRAIN) {
        double items = sc->train_subset > 0 ? (double)sc->train_subset : 60000;
        int epochs = c->strategy[0] && strcmp(c->strategy, "bottlefit") != 0 &&
                             strncmp(c->strategy, "ghnd", 4) != 0
                         ? sc->epochs_baseline
                         : sc->epochs_stage1 + sc->epochs_stage2;

        return items * (epochs > 0 ? epochs : 1);
    }
    return (double)(sc->min_samples > 0 ? sc->min_samples : 1) *
           (c->batch > 0 ? c->batch : 1) *
           (sc->repetitions > 0 ? sc->repetitions : 1);
}

struct order {
    size_t i;
    double cost;
    const char *hash;
};

static int by_cost(const void *a, const void *b)
{
    const struct order *x = a, *y = b;

    if (x->cost != y->cost)
        return x->cost > y->cost ? -1 : 1;
    return strcmp(x->hash, y->hash);
}

int bf_shard_assign(const struct bf_scenario *sc, const double *cost, int n,
                    int *shard_of)
{
    struct order *o;
    double *load;

    if (!sc || !shard_of || n < 1)
        return bf_err_set(BF_EINVAL, "bf_shard_assign: bad argument");
    o = calloc(sc->n_cases ? sc->n_cases : 1, sizeof(*o));
    load = calloc((size_t)n, sizeof(*load));
    if (!o || !load) {
        free(o);
        free(load);
        return bf_err_set(BF_ENOMEM, "shards of %zu cases", sc->n_cases);
    }
    for (size_t i = 0; i < sc->n_cases; i++) {
        o[i].i = i;
        o[i].cost =
            cost && cost[i] > 0 ? cost[i] : bf_shard_work(sc, &sc->cases[i]);
        o[i].hash = sc->cases[i].hash;
    }
    qsort(o, sc->n_cases, sizeof(*o), by_cost);
    for (size_t j = 0; j < sc->n_cases; j++) {
        int best = 0;

        for (int s = 1; s < n; s++)
            if (load[s] < load[best])
                best = s;
        shard_of[o[j].i] = best;
        load[best] += o[j].cost;
    }
    free(o);
    free(load);
    return 0;
}

int bf_shard_parse(const char *text, int *k, int *n)
{
    char *end;
    long a, b;

    if (!text || !k || !n)
        return -1;
    a = strtol(text, &end, 10);
    if (end == text || *end != '/')
        return -1;
    text = end + 1;
    b = strtol(text, &end, 10);
    if (end == text || *end != '\0' || a < 1 || b < 1 || a > b || b > 1024)
        return -1;
    *k = (int)a;
    *n = (int)b;
    return 0;
}
