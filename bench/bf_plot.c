/*
 * bf_plot: figures from the results DB through gnuplot.
 *
 * Each figure is built in memory first: its data rows (tab-separated, a
 * fixed printf format per column, rows in a fixed order: the store's, or
 * the paper's order of strategies and configurations), its title and its
 * caption, composed from what the DB says about how the numbers were
 * obtained. Then the data file is written with a comment header that holds
 * the gnuplot command rendering it by hand, and gnuplot renders the SVG and
 * the PNG. The data files are self-describing for the scripts: blocks
 * (separated by two blank lines) start with a header line whose first cell
 * is the series title, and rows carry their line style and panel, so a
 * script needs no variable but the file name to draw them.
 *
 * Every number comes from the store's figure queries (bf_store_figures.h),
 * with its interval where the data holds one: this file holds no SQL and
 * computes no statistic.
 *
 * Builders append with put(), which keeps the first failure in the
 * figure (sticky) so that a figure is checked once, before it is written.
 */
#define _POSIX_C_SOURCE 200809L
#include "bf_plot.h"

#include "bf_buf.h"
#include "bf_err.h"
#include "bf_log.h"
#include "bf_store.h"
#include "bf_store_claims.h"
#include "bf_store_figures.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

/* gnuplot output kept for a failure message. */
#define GNUPLOT_OUTPUT_MAX 2048
/* Names (models, devices, configurations) longer than this are cut. */
#define NAME_SIZE 96
/* Caption text: at most 7 px per character at the caption's 10 pt. */
#define CAPTION_PX_PER_CHAR 7.0

/* Line styles of common.gp. */
enum {
    STYLE_EDGE = 2,
    STYLE_SPINN = 5,
    STYLE_CONFIGS = 5, /* 1..5: the configurations by rank */
    STYLE_EXTRA = 13,  /* 13..20: any other series */
    STYLE_EXTRA_N = 8,
    STYLE_TEACHER = 21, /* the uncompressed model's line */
    STYLE_CURVE = 22,   /* an operating curve (exit rule) */
};

struct plot {
    const struct bf_plot_params *p;
    const char *db_path;
    const char *gnuplot;
    struct bf_store *store;
    FILE *out;
    int dir_made; /* the output directory exists */
    int written;  /* figures written */
};

/* The runs a figure kind reads. */
struct runs {
    int64_t *ids;
    size_t n, cap;
    struct bf_buf text; /* "run 1 (net-small)": for captions */
};

struct figure {
    const char *kind; /* file prefix and script name */
    char stem[2 * NAME_SIZE];
    int width_px;
    int height_px;
    struct bf_buf data;
    struct bf_buf title;
    struct bf_buf key_title; /* what the error bars are; may be empty */
    struct bf_buf caption;
    int rc; /* first failure of put() */
};

/* Formatted output */

static void put_v(struct bf_buf *buf, int *rc, const char *fmt, va_list ap)
{
    va_list aq;
    char small[256];
    int n;

    if (*rc)
        return;
    va_copy(aq, ap);
    n = vsnprintf(small, sizeof(small), fmt, aq);
    va_end(aq);
    if (n < 0) {
        *rc = bf_err_set(BF_EINTERNAL, "formatting plot text");
        return;
    }
    if ((size_t)n < sizeof(small)) {
        *rc = bf_buf_append(buf, small, (size_t)n);
    } else {
        char *space;

        *rc = bf_buf_extend(buf, (size_t)n, &space);
        if (*rc == 0) {
            /* The NUL lands on the buffer's own terminator slot. */
            vsnprintf(space, (size_t)n + 1, fmt, ap);
        }
    }
}

/* Append to buf unless the figure holds a failure; keep the first one. */
static void put(struct figure *f, struct bf_buf *buf, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void put(struct figure *f, struct bf_buf *buf, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    put_v(buf, &f->rc, fmt, ap);
    va_end(ap);
}

/* A number for a data file: fixed decimals, "NaN" when absent. */
static void put_num(struct figure *f, const char *fmt, double v)
{
    if (isnan(v))
        put(f, &f->data, "NaN");
    else
        put(f, &f->data, fmt, v);
}

static void figure_init(struct figure *f, const char *kind, const char *model,
                        int width_px, int height_px)
{
    size_t i, k;

    memset(f, 0, sizeof(*f));
    f->kind = kind;
    f->width_px = width_px;
    f->height_px = height_px;
    bf_buf_init(&f->data);
    bf_buf_init(&f->title);
    bf_buf_init(&f->key_title);
    bf_buf_init(&f->caption);
    /* The model's name in a file name: letters, digits, . _ - only. */
    k = (size_t)snprintf(f->stem, sizeof(f->stem), "%s-", kind);
    for (i = 0; model[i] && k + 1 < sizeof(f->stem); i++, k++) {
        char ch = model[i];
        int ok = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
                 (ch >= '0' && ch <= '9') || ch == '.' || ch == '_' ||
                 ch == '-';

        f->stem[k] = ok ? ch : '_';
    }
    f->stem[k] = '\0';
}

static void figure_free(struct figure *f)
{
    bf_buf_free(&f->data);
    bf_buf_free(&f->title);
    bf_buf_free(&f->key_title);
    bf_buf_free(&f->caption);
}

/* A name as a data cell: no tab or line break, at most NAME_SIZE - 1. */
static void cell(char *out, const char *s)
{
    size_t i;

    for (i = 0; s[i] && i + 1 < NAME_SIZE; i++)
        out[i] = (s[i] == '\t' || s[i] == '\n' || s[i] == '\r') ? ' ' : s[i];
    out[i] = '\0';
}

/* Files and processes */

/* mkdir -p: create path and its missing parents. */
static int make_dirs(const char *path)
{
    char dir[4096];
    size_t len = strlen(path);

    if (len == 0 || len >= sizeof(dir))
        return bf_err_set(BF_EINVAL, "output directory '%s': bad path", path);
    memcpy(dir, path, len + 1);
    for (size_t i = 1; i <= len; i++) {
        if (dir[i] != '/' && dir[i] != '\0')
            continue;
        dir[i] = '\0';
        if (mkdir(dir, 0755) != 0 && errno != EEXIST)
            return bf_err_set(BF_EIO, "cannot create directory '%s': %s", dir,
                              strerror(errno));
        dir[i] = path[i];
    }
    return 0;
}

static int write_file(const char *path, const struct bf_buf *head,
                      const struct bf_buf *body)
{
    FILE *fp = fopen(path, "wb");
    int bad;

    if (!fp)
        return bf_err_set(BF_EIO, "cannot write '%s': %s", path,
                          strerror(errno));
    bad = fwrite(bf_buf_str(head), 1, head->len, fp) != head->len;
    bad |= fwrite(bf_buf_str(body), 1, body->len, fp) != body->len;
    bad |= fclose(fp) != 0;
    if (bad)
        return bf_err_set(BF_EIO, "cannot write '%s': %s", path,
                          strerror(errno));
    return 0;
}

/* Drop trailing white space (gnuplot ends its messages with a newline). */
static void trim_end(struct bf_buf *buf)
{
    while (buf->len > 0 &&
           (buf->data[buf->len - 1] == '\n' || buf->data[buf->len - 1] == ' ' ||
            buf->data[buf->len - 1] == '\r'))
        buf->data[--buf->len] = '\0';
}

/*
 * Run gnuplot -d -e VARS SCRIPT: no shell, no init files, stdin from
 * /dev/null, stdout and stderr into one pipe. A failure's message holds
 * what gnuplot printed; on success, anything it printed (a warning) is
 * logged as a warning.
 */
static int run_gnuplot(struct plot *pl, const char *script, const char *vars,
                       const char *target)
{
    char *argv[] = {(char *)pl->gnuplot, "-d",           "-e",
                    (char *)vars,        (char *)script, NULL};
    posix_spawn_file_actions_t fa;
    struct bf_buf output;
    int fds[2];
    pid_t pid;
    int status = 0;
    int rc;

    if (pipe(fds) != 0)
        return bf_err_set(BF_EIO, "gnuplot for '%s': pipe: %s", target,
                          strerror(errno));
    rc = posix_spawn_file_actions_init(&fa);
    if (rc == 0)
        rc = posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    if (rc == 0)
        rc = posix_spawn_file_actions_adddup2(&fa, fds[1], 1);
    if (rc == 0)
        rc = posix_spawn_file_actions_adddup2(&fa, fds[1], 2);
    if (rc == 0)
        rc = posix_spawn_file_actions_addclose(&fa, fds[0]);
    if (rc == 0)
        rc = posix_spawn_file_actions_addclose(&fa, fds[1]);
    if (rc == 0)
        rc = posix_spawnp(&pid, pl->gnuplot, &fa, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    close(fds[1]);
    if (rc != 0) {
        close(fds[0]);
        if (rc == ENOENT)
            return bf_err_set(BF_ENOENT,
                              "gnuplot not found: no '%s' on PATH (install "
                              "gnuplot-nox: scripts/setup.sh)",
                              pl->gnuplot);
        return bf_err_set(BF_EIO, "cannot start '%s': %s", pl->gnuplot,
                          strerror(rc));
    }

    bf_buf_init(&output);
    for (;;) {
        char chunk[512];
        ssize_t n = read(fds[0], chunk, sizeof(chunk));

        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        /* Keep the start: gnuplot reports the first error and stops. */
        if (output.len < GNUPLOT_OUTPUT_MAX)
            bf_buf_append(&output, chunk, (size_t)n);
    }
    close(fds[0]);
    while (waitpid(pid, &status, 0) < 0) {
        if (errno != EINTR) {
            rc = bf_err_set(BF_EIO, "gnuplot for '%s': waitpid: %s", target,
                            strerror(errno));
            goto out;
        }
    }
    trim_end(&output);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        char how[64];

        if (WIFEXITED(status))
            snprintf(how, sizeof(how), "exit status %d", WEXITSTATUS(status));
        else
            snprintf(how, sizeof(how), "signal %d",
                     WIFSIGNALED(status) ? WTERMSIG(status) : 0);
        rc = bf_err_set(BF_EIO, "gnuplot failed (%s) on %s for '%s':\n%s", how,
                        script, target,
                        output.len ? bf_buf_str(&output) : "(no output)");
        goto out;
    }
    if (output.len)
        bf_log_warn("gnuplot on %s for '%s': %s", script, target,
                    bf_buf_str(&output));
    rc = 0;
out:
    bf_buf_free(&output);
    return rc;
}

/* Text for gnuplot and the shell */

/* s as a gnuplot double-quoted string; a line break becomes "\n". */
static void put_gp_string(struct figure *f, struct bf_buf *buf, const char *s)
{
    put(f, buf, "\"");
    for (; *s; s++) {
        if (*s == '"' || *s == '\\')
            put(f, buf, "\\%c", *s);
        else if (*s == '\n')
            put(f, buf, "\\n");
        else if (*s == '\t' || *s == '\r')
            put(f, buf, " ");
        else
            put(f, buf, "%c", *s);
    }
    put(f, buf, "\"");
}

/* s as one shell word, single-quoted (for the by-hand command). */
static void put_shell_word(struct figure *f, struct bf_buf *buf, const char *s)
{
    put(f, buf, "'");
    for (; *s; s++) {
        if (*s == '\'')
            put(f, buf, "'\\''");
        else
            put(f, buf, "%c", *s);
    }
    put(f, buf, "'");
}

/* Word-wrap text (one paragraph) into lines of at most cols characters. */
static void put_wrapped(struct figure *f, struct bf_buf *buf, const char *text,
                        size_t cols)
{
    size_t line = 0;

    while (*text) {
        size_t n = strcspn(text, " ");

        if (n > 0) {
            if (line > 0 && line + 1 + n > cols) {
                put(f, buf, "\n");
                line = 0;
            } else if (line > 0) {
                put(f, buf, " ");
                line++;
            }
            put(f, buf, "%.*s", (int)n, text);
            line += n;
        }
        text += n;
        while (*text == ' ')
            text++;
    }
}

/*
 * The variables of one render: sizes, title, key title (when the figure
 * has one), caption (wrapped to the canvas), data and output files.
 * file_dir prefixes the file names ("" in the by-hand command, which runs
 * in the output directory).
 */
static void put_vars(struct figure *f, struct bf_buf *buf, const char *file_dir,
                     const char *fmt)
{
    struct bf_buf wrapped, name;
    size_t cols = (size_t)((f->width_px - 20) / CAPTION_PX_PER_CHAR);

    bf_buf_init(&wrapped);
    bf_buf_init(&name);
    put_wrapped(f, &wrapped, bf_buf_str(&f->caption), cols);
    put(f, &name, "%s%s.tsv", file_dir, f->stem);
    put(f, buf, "datafile=");
    put_gp_string(f, buf, bf_buf_str(&name));
    bf_buf_reset(&name);
    put(f, &name, "%s%s.%s", file_dir, f->stem, fmt);
    put(f, buf, "; outfile=");
    put_gp_string(f, buf, bf_buf_str(&name));
    put(f, buf, "; fmt='%s'; width=%d; height=%d; title=", fmt, f->width_px,
        f->height_px);
    put_gp_string(f, buf, bf_buf_str(&f->title));
    if (f->key_title.len) {
        put(f, buf, "; keytitle=");
        put_gp_string(f, buf, bf_buf_str(&f->key_title));
    }
    put(f, buf, "; caption=");
    put_gp_string(f, buf, bf_buf_str(&wrapped));
    bf_buf_free(&wrapped);
    bf_buf_free(&name);
}

/*
 * Write the figure: its data file (the by-hand command on top), then the
 * SVG and the PNG through gnuplot; print each path to out.
 */
static int emit(struct plot *pl, struct figure *f)
{
    static const char *const fmts[] = {"svg", "png"};
    const char *dir = pl->p->out_dir;
    struct bf_buf head, vars, script, path, prefix;
    int rc;

    bf_buf_init(&prefix);
    bf_buf_init(&head);
    bf_buf_init(&vars);
    bf_buf_init(&script);
    bf_buf_init(&path);
    put(f, &script, "%s/%s.gp", pl->p->scripts_dir, f->kind);
    put(f, &head, "# bfbench plot: ");
    put(f, &head, "%s\n", bf_buf_str(&f->title));
    put(f, &head,
        "# Data of %s.svg and %s.png. To render by hand, in this "
        "directory:\n#   gnuplot -e ",
        f->stem, f->stem);
    put_vars(f, &vars, "", "svg");
    put_shell_word(f, &head, bf_buf_str(&vars));
    put(f, &head, " %s\n", bf_buf_str(&script));
    put(f, &path, "%s/%s.tsv", dir, f->stem);
    rc = f->rc;
    /* Made with the first figure: nothing to plot leaves no directory. */
    if (rc == 0 && !pl->dir_made) {
        rc = make_dirs(dir);
        pl->dir_made = rc == 0;
    }
    if (rc == 0)
        rc = write_file(bf_buf_str(&path), &head, &f->data);
    if (rc)
        goto out;
    if (pl->out)
        fprintf(pl->out, "%s\n", bf_buf_str(&path));
    bf_buf_reset(&prefix);
    put(f, &prefix, "%s/", dir);
    for (size_t i = 0; i < sizeof(fmts) / sizeof(fmts[0]); i++) {
        bf_buf_reset(&vars);
        bf_buf_reset(&path);
        put_vars(f, &vars, bf_buf_str(&prefix), fmts[i]);
        put(f, &path, "%s/%s.%s", dir, f->stem, fmts[i]);
        rc = f->rc;
        if (rc == 0)
            rc = run_gnuplot(pl, bf_buf_str(&script), bf_buf_str(&vars),
                             bf_buf_str(&path));
        if (rc)
            goto out;
        if (pl->out)
            fprintf(pl->out, "%s\n", bf_buf_str(&path));
    }
    if (pl->out)
        fflush(pl->out);
    pl->written++;
out:
    bf_buf_free(&head);
    bf_buf_free(&vars);
    bf_buf_free(&script);
    bf_buf_free(&path);
    bf_buf_free(&prefix);
    return rc;
}

/* Runs */

static void runs_init(struct runs *r)
{
    memset(r, 0, sizeof(*r));
    bf_buf_init(&r->text);
}

static void runs_free(struct runs *r)
{
    free(r->ids);
    bf_buf_free(&r->text);
}

/* v with room for n + 1 items (v itself when it has), or NULL (ENOMEM
 * set, v unchanged). */
static void *grow(void *v, size_t n, size_t *cap, size_t size)
{
    void *bigger;
    size_t ncap;

    if (n < *cap)
        return v;
    ncap = *cap ? *cap * 2 : 16;
    bigger = realloc(v, ncap * size);
    if (!bigger) {
        bf_err_set(BF_ENOMEM, "no memory for plot data");
        return NULL;
    }
    *cap = ncap;
    return bigger;
}

static int add_run(int64_t run_id, void *ctx)
{
    struct runs *r = ctx;
    void *g = grow(r->ids, r->n, &r->cap, sizeof(*r->ids));

    if (!g)
        return BF_ENOMEM;
    r->ids = g;
    r->ids[r->n++] = run_id;
    return 0;
}

static int id_cmp(const void *pa, const void *pb)
{
    int64_t a = *(const int64_t *)pa, b = *(const int64_t *)pb;

    return (a > b) - (a < b);
}

/* The runs in id order, each once. */
static void runs_sort(struct runs *r)
{
    size_t k = 0;

    if (r->n > 1)
        qsort(r->ids, r->n, sizeof(*r->ids), id_cmp);
    for (size_t i = 0; i < r->n; i++)
        if (k == 0 || r->ids[k - 1] != r->ids[i])
            r->ids[k++] = r->ids[i];
    r->n = k;
}

/* The runs of a caption: "1 (net-small), 3", and how many. */
struct run_list {
    struct bf_buf text;
    size_t n;
};

static int add_run_text(const struct bf_run_view *v, void *ctx)
{
    struct run_list *l = ctx;
    int rc =
        bf_buf_printf(&l->text, "%s%lld", l->n++ ? ", " : "", (long long)v->id);

    if (rc == 0 && v->scenario_name[0])
        rc = bf_buf_printf(&l->text, " (%s)", v->scenario_name);
    return rc;
}

/*
 * The runs of a model's figures, in id order: the given ones, or those the
 * store finds for that kind of rows. Leaves r->n 0 when there is none.
 * r->text names them with their scenarios.
 */
static int select_runs(struct plot *pl, enum bf_store_figure_rows rows,
                       const char *model, struct runs *r)
{
    struct run_list list = {.n = 0};
    int rc = 0;

    if (pl->p->n_run_ids > 0) {
        for (size_t i = 0; rc == 0 && i < pl->p->n_run_ids; i++)
            rc = add_run(pl->p->run_ids[i], r);
    } else {
        rc = bf_store_each_figure_run(pl->store, rows, model, add_run, r);
    }
    if (rc || r->n == 0)
        return rc;
    runs_sort(r);
    bf_buf_init(&list.text);
    for (size_t i = 0; rc == 0 && i < r->n; i++)
        rc = bf_store_each_run(pl->store, r->ids[i], add_run_text, &list);
    /* "run 1 (x)" or "runs 1 (x), 3 (y)". */
    if (rc == 0)
        rc = bf_buf_printf(&r->text, "%s %s", list.n == 1 ? "run" : "runs",
                           bf_buf_str(&list.text));
    bf_buf_free(&list.text);
    return rc;
}

/* Models: one name per NAME_SIZE slot. */
struct models {
    char (*names)[NAME_SIZE];
    size_t n, cap;
};

static int add_model(const char *model, void *ctx)
{
    struct models *m = ctx;
    void *g = grow(m->names, m->n, &m->cap, sizeof(*m->names));

    if (!g)
        return BF_ENOMEM;
    m->names = g;
    cell(m->names[m->n++], model);
    return 0;
}

/* Caption details */

struct texts {
    struct figure *f;
    const char *sep;
    int with_device; /* "device [text]" */
    size_t n;
};

static int put_text(const char *device, const char *text, void *ctx)
{
    struct texts *t = ctx;

    put(t->f, &t->f->caption, "%s", t->n++ ? t->sep : "");
    if (t->with_device)
        put(t->f, &t->f->caption, "%s [%s]", device, text);
    else
        put(t->f, &t->f->caption, "%s", text);
    return 0;
}

/*
 * Append to the caption the texts of that kind (the store's order),
 * separated by sep, or none_text when there is none (may be NULL).
 */
static int put_texts(struct plot *pl, struct figure *f, const struct runs *r,
                     const char *model, enum bf_store_figure_text what,
                     const char *sep, const char *none_text)
{
    struct texts t = {
        .f = f,
        .sep = sep,
        .with_device = what == BF_STORE_TEXT_LATENCY_METHODS ||
                       what == BF_STORE_TEXT_POWER_METHODS,
    };
    int rc = bf_store_each_figure_text(pl->store, what, r->ids, r->n, model,
                                       put_text, &t);

    if (rc == 0 && t.n == 0 && none_text)
        put(f, &f->caption, "%s", none_text);
    return rc;
}

/* Figure 1: accuracy against bytes sent */

/* Training strategies in the paper's order, with their line styles. */
static const struct {
    const char *name;
    int style;
} strategies[] = {
    {"naive", 6},     {"kd", 7},       {"hnd", 8},
    {"ghnd", 9},      {"ghnd-ft", 10}, {"ghnd-kd", 11},
    {"bottlefit", 3}, {"ae-split", 4}, {"spinn-split", STYLE_SPINN},
};
#define N_STRATEGIES (sizeof(strategies) / sizeof(strategies[0]))

/* A strategy's place on the figure: the paper's order, then any other, then
 * JPEG input and the teacher. */
static int strategy_rank(const char *name)
{
    for (size_t i = 0; i < N_STRATEGIES; i++)
        if (strcmp(strategies[i].name, name) == 0)
            return (int)i + 1;
    if (strcmp(name, "jpeg") == 0)
        return N_STRATEGIES + 2;
    if (strcmp(name, "teacher") == 0)
        return N_STRATEGIES + 3;
    return N_STRATEGIES + 1;
}

/* What an accuracy row is on the figure, in the order of the series. */
enum { ACC_INT8 = 0, ACC_EXIT = 1, ACC_JPEG = 2, ACC_OTHER = 3 };

/* "jpeg-q" followed by one digit or more and nothing else. */
static int is_jpeg_variant(const char *v)
{
    if (strncmp(v, "jpeg-q", 6) != 0 || v[6] == '\0')
        return 0;
    return strspn(v + 6, "0123456789") == strlen(v + 6);
}

static int variant_kind(const char *v)
{
    if (strcmp(v, "int8") == 0)
        return ACC_INT8;
    if (strncmp(v, "exit-t", 6) == 0)
        return ACC_EXIT;
    if (is_jpeg_variant(v))
        return ACC_JPEG;
    return ACC_OTHER;
}

/*
 * A strategy's line style: its own for its first series (by the figure's
 * order, the plain one before its "fe" one), then the next extra.
 * *taken remembers which own styles are in use.
 */
static int strategy_style(const char *name, unsigned *taken, int *extra)
{
    for (size_t i = 0; i < N_STRATEGIES; i++) {
        if (strcmp(strategies[i].name, name) == 0) {
            if (*taken & (1u << i))
                break;
            *taken |= 1u << i;
            return strategies[i].style;
        }
    }
    return STYLE_EXTRA + (*extra)++ % STYLE_EXTRA_N;
}

/* One point of the accuracy figure, as the store gives it. */
struct acc_point {
    char strategy[NAME_SIZE];
    char variant[NAME_SIZE];
    int rank, fe, ch, kind;
    double param; /* exit threshold, JPEG quality */
    double bytes, top1;
    enum bf_store_interval interval;
    double half, lo, hi;
    size_t cases, seeds;
    int64_t n_min, n_max;
};

struct acc_points {
    struct acc_point *p;
    size_t n, cap;
};

static int add_acc_point(const struct bf_accuracy_point_view *v, void *ctx)
{
    struct acc_points *ap = ctx;
    struct acc_point *p;
    void *g = grow(ap->p, ap->n, &ap->cap, sizeof(*ap->p));

    if (!g)
        return BF_ENOMEM;
    ap->p = g;
    p = &ap->p[ap->n++];
    cell(p->strategy, v->strategy);
    cell(p->variant, v->variant);
    p->rank = strategy_rank(p->strategy);
    p->fe = v->freeze_encoder;
    p->ch = v->bottleneck_channels;
    p->kind = variant_kind(v->variant);
    /* The number after "exit-t" or "jpeg-q"; unused for other variants. */
    p->param = strlen(v->variant) > 6 ? strtod(v->variant + 6, NULL) : 0;
    p->bytes = v->payload_bytes;
    p->top1 = v->top1_pct;
    p->interval = v->interval;
    p->half = v->top1_half_pct;
    p->lo = v->top1_lo_pct;
    p->hi = v->top1_hi_pct;
    p->cases = v->cases;
    p->seeds = v->seeds;
    p->n_min = v->n_min;
    p->n_max = v->n_max;
    return 0;
}

static int cmp_num(double a, double b)
{
    if (isnan(a) || isnan(b))
        return isnan(b) - isnan(a); /* NaN first, as SQL sorts NULL */
    return (a > b) - (a < b);
}

/* The figure's order: strategy, encoder, kind of row, bytes, channels. */
static int acc_point_cmp(const void *pa, const void *pb)
{
    const struct acc_point *a = pa, *b = pb;
    int c;

    if (a->rank != b->rank)
        return a->rank < b->rank ? -1 : 1;
    if ((c = strcmp(a->strategy, b->strategy)) != 0)
        return c;
    if (a->fe != b->fe)
        return a->fe < b->fe ? -1 : 1;
    if (a->kind != b->kind)
        return a->kind < b->kind ? -1 : 1;
    if ((c = cmp_num(a->bytes, b->bytes)) != 0)
        return c;
    if (a->ch != b->ch)
        return a->ch < b->ch ? -1 : 1;
    return strcmp(a->variant, b->variant);
}

/* What the accuracy figure found, for its key and caption. */
struct acc_found {
    int points;
    double xmin, xmax;
    double teacher;   /* top-1, NaN: absent */
    int c_min, c_max; /* bottleneck channels of int8 points */
    int have_int8;
    int have_fe;         /* a series with the encoder frozen */
    double t_min, t_max; /* exit thresholds */
    int have_exit;
    int q_min, q_max; /* JPEG qualities */
    int have_jpeg;
    int64_t n_min, n_max; /* test images per evaluation, every row */
    /* Error bars: seed groups (seeds from s_min to s_max), single
     * evaluations (Wilson, w_n_min to w_n_max images), points without. */
    size_t t_points, s_min, s_max;
    size_t w_points;
    int64_t w_n_min, w_n_max;
    size_t bare_points;
};

/*
 * Start a block: two blank lines before every block but the first, then
 * the header line whose first cell is the series title.
 */
static void start_block(struct figure *f, int *blocks, const char *title,
                        const char *columns)
{
    put(f, &f->data, "%s%s\t%s\n", (*blocks)++ ? "\n\n" : "", title, columns);
}

#define ACC_COLUMNS                                                            \
    "payload_bytes\ttop1_pct\tstyle\tlabel\ttop1_half_pct\ttop1_lo_pct\t"      \
    "top1_hi_pct\tseeds\tcases"

#define MIN_OF(a, b) ((a) < (b) ? (a) : (b))
#define MAX_OF(a, b) ((a) > (b) ? (a) : (b))

/* Count a point's error bar for the key and the caption. */
static void acc_count_interval(struct acc_found *a, const struct acc_point *p)
{
    if (p->interval == BF_STORE_INTERVAL_T) {
        a->s_min = a->t_points ? MIN_OF(a->s_min, p->cases) : p->cases;
        a->s_max = a->t_points ? MAX_OF(a->s_max, p->cases) : p->cases;
        a->t_points++;
    } else if (p->interval == BF_STORE_INTERVAL_WILSON) {
        a->w_n_min = a->w_points ? MIN_OF(a->w_n_min, p->n_min) : p->n_min;
        a->w_n_max = a->w_points ? MAX_OF(a->w_n_max, p->n_max) : p->n_max;
        a->w_points++;
    } else {
        a->bare_points++;
    }
}

/* One row of a series: the point, its style and label, its interval. */
static void acc_put_row(struct figure *f, const struct acc_point *p, int style,
                        const char *label)
{
    put(f, &f->data, "%.1f\t%.2f\t%d\t%s\t", p->bytes, p->top1, style, label);
    put_num(f, "%.2f", p->half);
    put(f, &f->data, "\t");
    put_num(f, "%.2f", p->lo);
    put(f, &f->data, "\t");
    put_num(f, "%.2f", p->hi);
    put(f, &f->data, "\t%zu\t%zu\n", p->seeds, p->cases);
}

static void acc_rows(struct figure *f, const struct acc_points *ap,
                     struct acc_found *a)
{
    char cur[2 * NAME_SIZE] = "";
    int blocks = 0, extra = 0, style = 0;
    unsigned taken = 0;

    for (size_t i = 0; i < ap->n; i++) {
        const struct acc_point *p = &ap->p[i];
        char title[2 * NAME_SIZE], label[32] = "";
        int series_style;

        a->n_min = i ? MIN_OF(a->n_min, p->n_min) : p->n_min;
        a->n_max = i ? MAX_OF(a->n_max, p->n_max) : p->n_max;
        if (strcmp(p->strategy, "teacher") == 0 &&
            strcmp(p->variant, "fp32") == 0) {
            a->teacher = p->top1;
            continue;
        }
        if (p->kind == ACC_OTHER || isnan(p->bytes) || isnan(p->top1) ||
            p->bytes <= 0)
            continue;
        if (p->kind == ACC_JPEG) {
            int q = (int)p->param;

            snprintf(title, sizeof(title), "JPEG input (%s)",
                     strcmp(p->strategy, "jpeg") == 0 ? "teacher"
                                                      : p->strategy);
            snprintf(label, sizeof(label), "q%d", q);
            series_style = STYLE_EDGE;
            a->q_min = a->have_jpeg && a->q_min < q ? a->q_min : q;
            a->q_max = a->have_jpeg && a->q_max > q ? a->q_max : q;
            a->have_jpeg = 1;
        } else if (p->kind == ACC_EXIT) {
            snprintf(title, sizeof(title), "%s%s exit rule", p->strategy,
                     p->fe ? " fe" : "");
            series_style = STYLE_CURVE;
            a->t_min =
                a->have_exit && a->t_min < p->param ? a->t_min : p->param;
            a->t_max =
                a->have_exit && a->t_max > p->param ? a->t_max : p->param;
            a->have_exit = 1;
        } else {
            snprintf(title, sizeof(title), "%s%s (8-bit)", p->strategy,
                     p->fe ? " fe" : "");
            series_style = 0; /* chosen when the series starts */
            a->have_fe |= p->fe;
            if (p->ch > 0) {
                snprintf(label, sizeof(label), "C=%d", p->ch);
                a->c_min = a->have_int8 && a->c_min < p->ch ? a->c_min : p->ch;
                a->c_max = a->have_int8 && a->c_max > p->ch ? a->c_max : p->ch;
            }
            a->have_int8 = 1;
        }
        if (strcmp(title, cur) != 0) {
            snprintf(cur, sizeof(cur), "%s", title);
            style = series_style ? series_style
                                 : strategy_style(p->strategy, &taken, &extra);
            start_block(f, &blocks, title, ACC_COLUMNS);
        }
        acc_put_row(f, p, style, label);
        acc_count_interval(a, p);
        a->xmin = p->bytes < a->xmin ? p->bytes : a->xmin;
        a->xmax = p->bytes > a->xmax ? p->bytes : a->xmax;
        a->points++;
    }
    if (a->points > 0 && !isnan(a->teacher)) {
        start_block(f, &blocks, "teacher fp32 (uncompressed input)",
                    ACC_COLUMNS);
        for (int end = 0; end < 2; end++)
            put(f, &f->data, "%.1f\t%.2f\t%d\t\tNaN\tNaN\tNaN\t0\t0\n",
                end ? a->xmax : a->xmin, a->teacher, STYLE_TEACHER);
    }
}

/* "2 seeds", "2 to 5 seeds"; "500 images", "500 to 1000 images". */
static void put_range(struct figure *f, struct bf_buf *buf, long long lo,
                      long long hi, const char *unit)
{
    if (lo == hi)
        put(f, buf, "%lld %s", lo, unit);
    else
        put(f, buf, "%lld to %lld %s", lo, hi, unit);
}

/*
 * The key's title: what the error bars are, one line per kind, for the
 * points drawn.
 */
static void acc_key_title(struct figure *f, const struct acc_found *a)
{
    struct bf_buf *k = &f->key_title;

    if (a->t_points) {
        put(f, k, "bars: mean of ");
        put_range(f, k, (long long)a->s_min, (long long)a->s_max, "seeds");
        put(f, k, ", 95 %% t interval");
    }
    if (a->w_points) {
        put(f, k, "%s", a->t_points ? "\none seed: " : "bars: one seed, ");
        put(f, k, "95 %% Wilson interval\nover ");
        put_range(f, k, (long long)a->w_n_min, (long long)a->w_n_max,
                  "test images");
    }
    if (a->bare_points)
        put(f, k, "%sno bar: mean of evaluations\nthat form no seed group",
            k->len ? "\n" : "");
}

static void acc_caption_bars(struct figure *f, const struct acc_found *a)
{
    struct bf_buf *cap = &f->caption;

    if (a->t_points) {
        put(f, cap,
            " Error bars: a configuration trained with several seeds is "
            "drawn at the mean top-1 of its ");
        put_range(f, cap, (long long)a->s_min, (long long)a->s_max, "seeds");
        put(f, cap, " with the 95 %% Student t interval of that mean.");
    }
    if (a->w_points)
        put(f, cap,
            " %s: the 95 %% Wilson score interval of the "
            "top-1 over the test images.",
            a->t_points ? "One seed" : "Error bars (one seed each)");
    if (a->bare_points)
        put(f, cap,
            " Without a bar: the mean of evaluations that form no seed "
            "group (several runs, or no seed recorded): no interval.");
}

static int acc_caption(struct plot *pl, struct figure *f, const struct runs *r,
                       const char *model, const struct acc_found *a)
{
    struct bf_buf *cap = &f->caption;
    size_t before;
    int rc;

    put(f, cap, "Top-1 accuracy (%%) on the test split (");
    before = cap->len;
    rc = put_texts(pl, f, r, model, BF_STORE_TEXT_DATASETS, ", ", NULL);
    if (rc)
        return rc;
    put(f, cap, "%s", cap->len > before ? ", " : "");
    put_range(f, cap, (long long)a->n_min, (long long)a->n_max, "images");
    put(f, cap, "; ");
    rc = put_texts(pl, f, r, model, BF_STORE_TEXT_ACCURACY_METHODS, ", ", NULL);
    if (rc)
        return rc;
    put(f, cap,
        ") against the mean payload per image sent to the edge "
        "server (bytes, log scale).");
    if (a->have_int8) {
        put(f, cap,
            " (8-bit): the 8-bit split tensor of a training "
            "strategy");
        if (a->c_max > 0 && a->c_min != a->c_max)
            put(f, cap,
                ", one point per bottleneck channel count C (%d to "
                "%d)",
                a->c_min, a->c_max);
        else if (a->c_max > 0)
            put(f, cap, ", C=%d bottleneck channels", a->c_max);
        put(f, cap, "%s.", a->have_fe ? "; fe: encoder frozen in stage 2" : "");
    }
    if (a->have_exit)
        put(f, cap,
            " Exit rule: one point per confidence threshold (%g to "
            "%g); bytes averaged over all images, those leaving at "
            "an early exit on the device sending none.",
            a->t_min, a->t_max);
    if (a->have_jpeg) {
        put(f, cap, " JPEG input: the teacher on JPEG-compressed images");
        if (a->q_min != a->q_max)
            put(f, cap, ", qualities %d to %d.", a->q_min, a->q_max);
        else
            put(f, cap, ", quality %d.", a->q_min);
    }
    acc_caption_bars(f, a);
    if (!isnan(a->teacher))
        put(f, cap, " Dashed: the teacher's top-1 on uncompressed input.");
    put(f, cap, " Results DB %s.", bf_buf_str(&r->text));
    return 0;
}

static int fig_accuracy(struct plot *pl, const struct runs *r,
                        const char *model)
{
    struct acc_found a = {.xmin = INFINITY, .xmax = -INFINITY, .teacher = NAN};
    struct acc_points ap = {0};
    struct figure f;
    int rc;

    figure_init(&f, "accuracy", model, 1180, 660);
    rc = bf_store_each_accuracy_point(pl->store, r->ids, r->n, model,
                                      add_acc_point, &ap);
    if (rc)
        goto out;
    if (ap.n > 1)
        qsort(ap.p, ap.n, sizeof(*ap.p), acc_point_cmp);
    acc_rows(&f, &ap, &a);
    if (a.points == 0) {
        bf_log_info("plot: accuracy figure of %s skipped: no accuracy row "
                    "with a payload in %s",
                    model, bf_buf_str(&r->text));
        goto out;
    }
    put(&f, &f.title, "%s: top-1 accuracy vs bytes sent per image", model);
    acc_key_title(&f, &a);
    rc = acc_caption(pl, &f, r, model, &a);
    if (rc == 0)
        rc = emit(pl, &f);
out:
    free(ap.p);
    figure_free(&f);
    return rc;
}

/* Training curves: loss and validation top-1 per epoch (no paper figure) */

/* One epoch of the case drawn for a configuration, as the store gives it. */
struct train_point {
    char strategy[NAME_SIZE];
    char phase[NAME_SIZE];
    int rank, fe, ch;
    size_t cases;
    int has_seed;
    uint64_t seed;
    int64_t seq;
    int epoch;
    double lr;
    double loss;        /* per image where recorded, else as reduced */
    int loss_per_image; /* 0: loss as reduced (before schema 12) */
    double top1;
    int best;
};

struct train_points {
    struct train_point *p;
    size_t n, cap;
};

static int add_train_point(const struct bf_epoch_point_view *v, void *ctx)
{
    struct train_points *tp = ctx;
    struct train_point *p;
    void *g = grow(tp->p, tp->n, &tp->cap, sizeof(*tp->p));

    if (!g)
        return BF_ENOMEM;
    tp->p = g;
    p = &tp->p[tp->n++];
    cell(p->strategy, v->strategy);
    cell(p->phase, v->phase);
    p->rank = strategy_rank(p->strategy);
    p->fe = v->freeze_encoder;
    p->ch = v->bottleneck_channels;
    p->cases = v->cases;
    p->has_seed = v->has_seed;
    p->seed = v->seed;
    p->seq = v->seq;
    p->epoch = v->epoch;
    p->lr = v->lr;
    p->loss_per_image = !isnan(v->train_loss_per_image);
    p->loss = p->loss_per_image ? v->train_loss_per_image : v->train_loss;
    p->top1 = v->val_top1_pct;
    p->best = v->best;
    return 0;
}

/* The paper's order of strategies, then encoder, channels and epochs. */
static int train_point_cmp(const void *pa, const void *pb)
{
    const struct train_point *a = pa, *b = pb;
    int c;

    if (a->rank != b->rank)
        return a->rank < b->rank ? -1 : 1;
    if ((c = strcmp(a->strategy, b->strategy)) != 0)
        return c;
    if (a->fe != b->fe)
        return a->fe < b->fe ? -1 : 1;
    if (a->ch != b->ch)
        return a->ch < b->ch ? -1 : 1;
    return (a->seq > b->seq) - (a->seq < b->seq);
}

static int same_train_config(const struct train_point *a,
                             const struct train_point *b)
{
    return strcmp(a->strategy, b->strategy) == 0 && a->fe == b->fe &&
           a->ch == b->ch;
}

/* What the training-curve figure found, for its key and caption. */
struct train_found {
    size_t lines;
    size_t seeded;         /* lines whose case recorded a seed */
    uint64_t s_min, s_max; /* their seeds */
    int others;            /* a configuration has cases not drawn */
    int all_reduced;       /* no loss per image at all: lines not marked */
    size_t reduced_lines;  /* lines with a loss as reduced */
    size_t partly_lines;   /* of those, lines with losses per image too */
    size_t not_drawn;      /* losses a log scale cannot show */
};

#define TRAIN_COLUMNS                                                          \
    "epoch\tloss\tval_top1_pct\tstyle\tphase\tphase_epoch\tloss_per_image\t"   \
    "lr\tbest"

/*
 * One configuration's block: the header (its title: the configuration,
 * its phases in order unless it has one named as its strategy, and how
 * its loss was recorded when not per image, unless no loss of the figure
 * is), then a row per epoch, a single blank line between two phases
 * (gnuplot breaks the line there).
 */
static void train_block(struct figure *f, const struct train_point *p, size_t n,
                        int style, int *blocks, struct train_found *t)
{
    char title[4 * NAME_SIZE];
    size_t off, phases = 1, reduced = 0;

    for (size_t i = 0; i < n; i++) {
        phases += i > 0 && strcmp(p[i].phase, p[i - 1].phase) != 0;
        reduced += !p[i].loss_per_image;
    }
    off = (size_t)snprintf(title, sizeof(title), "%s%s", p[0].strategy,
                           p[0].fe ? " fe" : "");
    if (p[0].ch > 0 && off < sizeof(title))
        off += (size_t)snprintf(title + off, sizeof(title) - off, " C=%d",
                                p[0].ch);
    for (size_t i = 0; i < n && off < sizeof(title); i++) {
        if ((i > 0 && strcmp(p[i].phase, p[i - 1].phase) == 0) ||
            (phases == 1 && strcmp(p[i].phase, p[i].strategy) == 0))
            continue;
        off += (size_t)snprintf(title + off, sizeof(title) - off, "%s%s",
                                i ? " | " : ": ", p[i].phase);
    }
    if (reduced && !t->all_reduced && off < sizeof(title))
        snprintf(title + off, sizeof(title) - off, " (loss %sas reduced)",
                 reduced < n ? "partly " : "");
    start_block(f, blocks, title, TRAIN_COLUMNS);
    for (size_t i = 0; i < n; i++) {
        double loss = p[i].loss > 0 ? p[i].loss : NAN;

        if (i > 0 && strcmp(p[i].phase, p[i - 1].phase) != 0)
            put(f, &f->data, "\n");
        put(f, &f->data, "%lld\t", (long long)p[i].seq + 1);
        put_num(f, "%.6g", loss);
        put(f, &f->data, "\t");
        put_num(f, "%.2f", p[i].top1);
        put(f, &f->data, "\t%d\t%s\t%d\t%d\t", style, p[i].phase, p[i].epoch,
            p[i].loss_per_image);
        put_num(f, "%.6g", p[i].lr);
        put(f, &f->data, "\t%d\n", p[i].best);
        t->not_drawn += isnan(loss);
    }
    if (p[0].has_seed) {
        t->s_min = t->seeded && t->s_min < p[0].seed ? t->s_min : p[0].seed;
        t->s_max = t->seeded && t->s_max > p[0].seed ? t->s_max : p[0].seed;
        t->seeded++;
    }
    t->others |= p[0].cases > 1;
    t->reduced_lines += reduced > 0;
    t->partly_lines += reduced > 0 && reduced < n;
    t->lines++;
}

/* What the loss is where it is not per image (after "...: "). */
#define TRAIN_REDUCED_TEXT                                                     \
    "loss as reduced (per batch), recorded before per-image losses: summed "   \
    "over the batch for HND, GHND and autoencoder losses, so not comparable "  \
    "with a loss per image"

static void train_caption(struct figure *f, const struct runs *r,
                          const struct train_found *t)
{
    struct bf_buf *cap = &f->caption;

    put(f, cap,
        "Training curves. Above: the training loss per training image%s, "
        "mean over the epoch (log scale); below: the top-1 accuracy (%%) on "
        "the validation split after each epoch; both against the epoch "
        "counted across the phases of a case. The key names the phases of "
        "a line in order (none: one phase, the strategy itself); the line "
        "breaks between two phases. One line per configuration (strategy, "
        "C bottleneck channels; fe: encoder frozen in stage 2): its case "
        "with the lowest seed (",
        t->reduced_lines ? " where recorded" : "");
    if (t->seeded == 0)
        put(f, cap, "no seed recorded");
    else if (t->s_min == t->s_max)
        put(f, cap, "seed %llu", (unsigned long long)t->s_min);
    else
        put(f, cap, "seeds %llu to %llu", (unsigned long long)t->s_min,
            (unsigned long long)t->s_max);
    if (t->seeded > 0 && t->seeded < t->lines)
        put(f, cap, ", or no seed recorded");
    put(f, cap, "%s).", t->others ? "; other seeds not shown" : "");
    if (t->all_reduced)
        put(f, cap, " Every line: " TRAIN_REDUCED_TEXT ".");
    else if (t->reduced_lines)
        put(f, cap,
            " Lines marked (loss as reduced): " TRAIN_REDUCED_TEXT "%s.",
            t->partly_lines ? "; partly: for the epochs recorded before them "
                              "(data column loss_per_image 0)"
                            : "");
    if (t->not_drawn)
        put(f, cap,
            " Not drawn: %zu loss%s of zero or not recorded (no place on a "
            "log scale).",
            t->not_drawn, t->not_drawn == 1 ? "" : "es");
    put(f, cap, " Results DB %s.", bf_buf_str(&r->text));
}

static int fig_train(struct plot *pl, const struct runs *r, const char *model)
{
    struct train_found t = {0};
    struct train_points tp = {0};
    int blocks = 0, extra = 0;
    unsigned taken = 0;
    struct figure f;
    int rc;

    figure_init(&f, "train", model, 1280, 780);
    rc = bf_store_each_epoch_point(pl->store, r->ids, r->n, model,
                                   add_train_point, &tp);
    if (rc)
        goto out;
    if (tp.n == 0) {
        bf_log_info("plot: training-curve figure of %s skipped: no epoch "
                    "rows in %s",
                    model, bf_buf_str(&r->text));
        goto out;
    }
    if (tp.n > 1)
        qsort(tp.p, tp.n, sizeof(*tp.p), train_point_cmp);
    t.all_reduced = 1;
    for (size_t i = 0; i < tp.n; i++)
        t.all_reduced &= !tp.p[i].loss_per_image;
    for (size_t i = 0, n; i < tp.n; i += n) {
        for (n = 1; i + n < tp.n && same_train_config(&tp.p[i], &tp.p[i + n]);
             n++)
            ;
        train_block(&f, &tp.p[i], n,
                    strategy_style(tp.p[i].strategy, &taken, &extra), &blocks,
                    &t);
    }
    put(&f, &f.title, "%s: training loss and validation top-1 per epoch",
        model);
    put(&f, &f.key_title, "configuration: phases%s",
        t.all_reduced ? "\nevery loss as reduced (per batch)" : "");
    train_caption(&f, r, &t);
    rc = emit(pl, &f);
out:
    free(tp.p);
    figure_free(&f);
    return rc;
}

/* Device figures: latency, energy, breakdown */

/* One device row of the figure, averaged over the cases it stands for. */
struct dev_point {
    char device[NAME_SIZE];
    char config[NAME_SIZE];
    int rank;
    int channels;
    int background;
    int sent;         /* 0: the case sent nothing (its link is NULL) */
    double rate_mbps; /* NaN: not emulated */
    size_t cases;
    int series;   /* index in dev_data.series */
    int measured; /* device time measured, not modeled */
    double e2e_ms, head_ms, encode_ms, transfer_ms;
    double queue_ms, decode_ms, tail_ms; /* p50 of the case's samples */
    double energy_mj, power_mw;
    /* measured: 95 % interval of the median; modeled: the device model's
     * 90 % prediction interval; NaN: none */
    double e2e_lo_ms, e2e_hi_ms;
    double energy_lo_mj, energy_hi_mj; /* modeled: as e2e, else NaN */
};

struct dev_series {
    char label[2 * NAME_SIZE];
    int rank;
    char config[NAME_SIZE];
    int channels;
    int background;
    int style;
    int sends; /* some point sent something */
};

struct dev_data {
    struct dev_point *pts;
    size_t n, cap;
    struct dev_series *series;
    size_t n_series;
    char (*devices)[NAME_SIZE];
    size_t n_devices, dcap;
    double *rates; /* emulated uplink rates, ascending */
    size_t n_rates, rcap;
};

/* The configurations in the paper's order; others follow by name. */
static int config_rank(const char *config)
{
    static const char *const order[] = {"local", "edge", "bottlefit",
                                        "ae-split", "spinn-split"};

    for (size_t i = 0; i < sizeof(order) / sizeof(order[0]); i++)
        if (strcmp(order[i], config) == 0)
            return (int)i + 1;
    return (int)(sizeof(order) / sizeof(order[0])) + 1;
}

static void dev_data_free(struct dev_data *dd)
{
    free(dd->pts);
    free(dd->series);
    free(dd->devices);
    free(dd->rates);
    memset(dd, 0, sizeof(*dd));
}

static int series_cmp(const void *pa, const void *pb)
{
    const struct dev_series *a = pa, *b = pb;
    int c;

    if (a->rank != b->rank)
        return a->rank < b->rank ? -1 : 1;
    if ((c = strcmp(a->config, b->config)) != 0)
        return c;
    if (a->channels != b->channels)
        return a->channels < b->channels ? -1 : 1;
    if (a->background != b->background)
        return a->background < b->background ? -1 : 1;
    return strcmp(a->label, b->label);
}

static int rate_cmp(const void *pa, const void *pb)
{
    double a = *(const double *)pa, b = *(const double *)pb;

    return a < b ? -1 : a > b;
}

static int same_rate(double a, double b)
{
    return fabs(a - b) <= 1e-9 * (fabs(a) > 1.0 ? fabs(a) : 1.0);
}

/*
 * The series of the points: one per configuration, split by bottleneck
 * channels when the configuration has several ("bottlefit C=2"), and by
 * background clients when there are any ("+4 clients"). Styles: a
 * configuration's own for a plain one, else the next extra.
 */
static int dev_series_build(struct dev_data *dd)
{
    size_t cap = 0;
    int extra = 0;

    for (size_t i = 0; i < dd->n; i++) {
        struct dev_point *p = &dd->pts[i];
        struct dev_series s = {.rank = p->rank,
                               .channels = p->channels,
                               .background = p->background};
        int several = 0;
        size_t k, off;
        void *g;

        for (size_t j = 0; j < dd->n && !several; j++)
            several = strcmp(dd->pts[j].config, p->config) == 0 &&
                      dd->pts[j].channels != p->channels;
        snprintf(s.config, sizeof(s.config), "%s", p->config);
        off = (size_t)snprintf(s.label, sizeof(s.label), "%s", p->config);
        if (several && off < sizeof(s.label))
            off += (size_t)snprintf(s.label + off, sizeof(s.label) - off,
                                    " C=%d", p->channels);
        if (p->background > 0 && off < sizeof(s.label))
            snprintf(s.label + off, sizeof(s.label) - off, " +%d clients",
                     p->background);
        if (!several)
            s.channels = 0;
        for (k = 0; k < dd->n_series; k++)
            if (strcmp(dd->series[k].label, s.label) == 0)
                break;
        if (k == dd->n_series) {
            g = grow(dd->series, dd->n_series, &cap, sizeof(*dd->series));
            if (!g)
                return BF_ENOMEM;
            dd->series = g;
            dd->series[dd->n_series++] = s;
        }
        dd->series[k].sends |= p->sent;
    }
    if (dd->n_series > 1)
        qsort(dd->series, dd->n_series, sizeof(*dd->series), series_cmp);
    for (size_t k = 0; k < dd->n_series; k++) {
        struct dev_series *s = &dd->series[k];

        if (s->rank <= STYLE_CONFIGS && strcmp(s->label, s->config) == 0)
            s->style = s->rank;
        else
            s->style = STYLE_EXTRA + extra++ % STYLE_EXTRA_N;
    }
    /* Each point's series, by its label. */
    for (size_t i = 0; i < dd->n; i++) {
        struct dev_point *p = &dd->pts[i];

        for (size_t k = 0; k < dd->n_series; k++) {
            const struct dev_series *s = &dd->series[k];

            if (strcmp(s->config, p->config) == 0 &&
                (s->channels == 0 || s->channels == p->channels) &&
                s->background == p->background) {
                p->series = (int)k;
                break;
            }
        }
    }
    return 0;
}

/*
 * One point from the store (its order: device, configuration, channels,
 * clients, sent, rate), with its device and rate noted.
 */
static int add_dev_point(const struct bf_device_point_view *v, void *ctx)
{
    struct dev_data *dd = ctx;
    struct dev_point *p;
    void *g = grow(dd->pts, dd->n, &dd->cap, sizeof(*dd->pts));

    if (!g)
        return BF_ENOMEM;
    dd->pts = g;
    p = &dd->pts[dd->n++];
    memset(p, 0, sizeof(*p));
    cell(p->device, v->device);
    cell(p->config, v->config);
    p->rank = config_rank(p->config);
    p->channels = v->bottleneck_channels;
    p->background = v->background_clients;
    p->sent = v->sent;
    p->rate_mbps = v->link_rate_mbps;
    p->cases = v->cases;
    p->measured = v->measured;
    p->e2e_ms = v->e2e_ms;
    p->head_ms = v->head_ms;
    p->encode_ms = v->encode_ms;
    p->transfer_ms = v->transfer_ms;
    p->queue_ms = v->queue_ms;
    p->decode_ms = v->decode_ms;
    p->tail_ms = v->tail_ms;
    p->energy_mj = v->energy_mj;
    p->power_mw = v->power_mw;
    p->e2e_lo_ms = v->e2e_lo_ms;
    p->e2e_hi_ms = v->e2e_hi_ms;
    p->energy_lo_mj = v->energy_lo_mj;
    p->energy_hi_mj = v->energy_hi_mj;
    if (dd->n_devices == 0 ||
        strcmp(dd->devices[dd->n_devices - 1], p->device) != 0) {
        g = grow(dd->devices, dd->n_devices, &dd->dcap, sizeof(*dd->devices));
        if (!g)
            return BF_ENOMEM;
        dd->devices = g;
        memcpy(dd->devices[dd->n_devices++], p->device, NAME_SIZE);
    }
    if (p->sent && !isnan(p->rate_mbps)) {
        size_t k;

        for (k = 0; k < dd->n_rates; k++)
            if (same_rate(dd->rates[k], p->rate_mbps))
                break;
        if (k == dd->n_rates) {
            g = grow(dd->rates, dd->n_rates, &dd->rcap, sizeof(*dd->rates));
            if (!g)
                return BF_ENOMEM;
            dd->rates = g;
            dd->rates[dd->n_rates++] = p->rate_mbps;
        }
    }
    return 0;
}

/* Read the model's device rows, their series, devices and rates. */
static int dev_load(struct plot *pl, const struct runs *r, const char *model,
                    struct dev_data *dd)
{
    int rc;

    memset(dd, 0, sizeof(*dd));
    rc = bf_store_each_device_point(pl->store, r->ids, r->n, model,
                                    add_dev_point, dd);
    if (rc)
        return rc;
    if (dd->n_rates > 1)
        qsort(dd->rates, dd->n_rates, sizeof(*dd->rates), rate_cmp);
    return dev_series_build(dd);
}

/* The point of a series on a device at a rate (one that sent nothing
 * stands for every rate), or NULL. */
static const struct dev_point *dev_at(const struct dev_data *dd, size_t series,
                                      size_t device, double rate)
{
    for (size_t i = 0; i < dd->n; i++) {
        const struct dev_point *p = &dd->pts[i];

        if ((size_t)p->series != series ||
            strcmp(p->device, dd->devices[device]) != 0)
            continue;
        if (!p->sent || (!isnan(rate) && same_rate(p->rate_mbps, rate)))
            return p;
    }
    return NULL;
}

/* The labels of the series that send nothing ("local"), for captions. */
static void put_unsent(struct figure *f, const struct dev_data *dd)
{
    size_t n = 0;

    for (size_t k = 0; k < dd->n_series; k++)
        if (!dd->series[k].sends)
            put(f, &f->caption, "%s%s", n++ ? ", " : "", dd->series[k].label);
    if (n == 0)
        put(f, &f->caption, "none");
}

/* "fixed 20 Mbit/s RTT 20 ms ..." without its rate: the link as such. */
static void strip_rate(char *s)
{
    char *unit = strstr(s, " Mbit/s");
    char *start;

    if (!unit)
        return;
    start = unit;
    while (start > s && start[-1] != ' ')
        start--;
    unit += strlen(" Mbit/s");
    if (*unit == ' ')
        unit++;
    memmove(start, unit, strlen(unit) + 1);
}

/* The methods of the encode, transfer and edge server stages. */
static int dev_put_host_methods(struct plot *pl, struct figure *f,
                                const struct runs *r, const char *model)
{
    return put_texts(pl, f, r, model, BF_STORE_TEXT_HOST_METHODS, ", ",
                     "not recorded");
}

/* The links of the figure without their rates, each once (at most 8). */
struct links {
    struct figure *f;
    char seen[8][256];
    size_t n;
};

static int put_link(const char *device, const char *text, void *ctx)
{
    struct links *l = ctx;
    char link[256];
    size_t k;

    (void)device;
    snprintf(link, sizeof(link), "%s", text);
    strip_rate(link);
    for (k = 0; k < l->n; k++)
        if (strcmp(l->seen[k], link) == 0)
            return 0;
    if (l->n < sizeof(l->seen) / sizeof(l->seen[0])) {
        memcpy(l->seen[l->n], link, sizeof(link));
        put(l->f, &l->f->caption, "%s%s", l->n ? "; " : "", link);
        l->n++;
    }
    return 0;
}

static int dev_put_links(struct plot *pl, struct figure *f,
                         const struct runs *r, const char *model)
{
    struct links l = {.f = f};
    int rc = bf_store_each_figure_text(pl->store, BF_STORE_TEXT_LINKS, r->ids,
                                       r->n, model, put_link, &l);

    if (rc == 0 && l.n == 0)
        put(f, &f->caption, "no link");
    return rc;
}

/* Whether every point of a device has its device time measured. */
static int dev_measured(const struct dev_data *dd, size_t device)
{
    int any = 0;

    for (size_t i = 0; i < dd->n; i++) {
        if (strcmp(dd->pts[i].device, dd->devices[device]) != 0)
            continue;
        if (!dd->pts[i].measured)
            return 0;
        any = 1;
    }
    return any;
}

/* Room on the right of the latency figure's panels for its key, in px
 * (latency.gp keeps the same). */
#define LAT_KEY_PX 230

#define LAT_COLUMNS                                                            \
    "rate_mbps\te2e_ms\tstyle\tpanel\tdevice\tcases\te2e_lo_ms\t"              \
    "e2e_hi_ms\tseries\tpanel_title"

/* Whether some point of a device has a modeled prediction interval. */
static int dev_predicted(const struct dev_data *dd, size_t device)
{
    for (size_t i = 0; i < dd->n; i++)
        if (!dd->pts[i].measured && !isnan(dd->pts[i].e2e_lo_ms) &&
            strcmp(dd->pts[i].device, dd->devices[device]) == 0)
            return 1;
    return 0;
}

/*
 * The latency figure's panel title: the device and how its time was
 * obtained; *bars counts the devices with measured intervals, *predicted
 * those with modeled ones.
 */
static void lat_panel_title(const struct dev_data *dd, size_t d, char *out,
                            size_t size, size_t *bars, size_t *predicted)
{
    if (dev_measured(dd, d)) {
        snprintf(out, size, "%s (measured)", dd->devices[d]);
        (*bars)++;
    } else if (dev_predicted(dd, d)) {
        snprintf(out, size, "%s (modeled, 90 %% PI)", dd->devices[d]);
        (*predicted)++;
    } else {
        snprintf(out, size, "%s (modeled, no interval)", dd->devices[d]);
    }
}

/* Figure 2: end-to-end latency against the uplink rate. */
static int fig_latency(struct plot *pl, const struct runs *r, const char *model,
                       const struct dev_data *dd)
{
    struct figure f;
    int blocks = 0, rc = 0;
    size_t dropped = 0, measured = 0, predicted = 0;

    if (dd->n_rates == 0) {
        bf_log_info("plot: latency figure of %s skipped: no case with an "
                    "emulated uplink rate in %s",
                    model, bf_buf_str(&r->text));
        return 0;
    }
    figure_init(&f, "latency", model,
                (dd->n_devices > 2 ? 60 + 420 * (int)dd->n_devices : 960) +
                    LAT_KEY_PX,
                600);
    for (size_t d = 0; d < dd->n_devices; d++) {
        char panel[NAME_SIZE + 40];

        lat_panel_title(dd, d, panel, sizeof(panel), &measured, &predicted);
        for (size_t k = 0; k < dd->n_series; k++) {
            const struct dev_series *s = &dd->series[k];
            int rows = 0;

            for (size_t ri = 0; ri < dd->n_rates; ri++) {
                const struct dev_point *p = dev_at(dd, k, d, dd->rates[ri]);

                if (!p || isnan(p->e2e_ms))
                    continue;
                if (rows++ == 0)
                    start_block(&f, &blocks, s->label, LAT_COLUMNS);
                put(&f, &f.data, "%.3f\t", dd->rates[ri]);
                put(&f, &f.data, "%.4f\t%d\t%zu\t%s\t%zu\t", p->e2e_ms,
                    s->style, d + 1, dd->devices[d], p->cases);
                put_num(&f, "%.4f", p->e2e_lo_ms);
                put(&f, &f.data, "\t");
                put_num(&f, "%.4f", p->e2e_hi_ms);
                put(&f, &f.data, "\t%s\t%s\n", s->label, panel);
            }
        }
    }
    for (size_t i = 0; i < dd->n; i++)
        dropped += dd->pts[i].sent && isnan(dd->pts[i].rate_mbps);
    if (dropped)
        bf_log_info("plot: latency figure of %s: %zu configuration(s) over "
                    "a link without an emulated rate left out",
                    model, dropped);
    put(&f, &f.title, "%s: end-to-end latency vs uplink rate", model);
    if (measured && predicted)
        put(&f, &f.key_title, "bars: 95 %% CI (measured),\n90 %% PI (modeled)");
    else if (measured)
        put(&f, &f.key_title, "bars: 95 %% bootstrap\ninterval of the median");
    else if (predicted)
        put(&f, &f.key_title,
            "bars: 90 %% prediction\ninterval of the "
            "model");
    else
        put(&f, &f.key_title, "modeled device time:\nno interval");
    put(&f, &f.caption,
        "Median end-to-end latency per request (ms, log scale) against the "
        "uplink rate (Mbit/s, log scale), link: ");
    rc = dev_put_links(pl, &f, r, model);
    if (rc == 0) {
        put(&f, &f.caption, ". Device compute time: ");
        rc = put_texts(pl, &f, r, model, BF_STORE_TEXT_LATENCY_METHODS, "; ",
                       NULL);
    }
    if (rc == 0) {
        put(&f, &f.caption,
            ". Encoding, transfer (real TCP) and edge server time: ");
        rc = dev_put_host_methods(pl, &f, r, model);
    }
    put(&f, &f.caption, ". Sending nothing, drawn at every rate: ");
    put_unsent(&f, dd);
    put(&f, &f.caption, ".%s",
        measured ? " Error bars (measured device time): 95 % bootstrap "
                   "percentile interval of the median over the requests."
                 : "");
    if (predicted)
        put(&f, &f.caption,
            " Error bars (modeled device time): the 90 %% prediction "
            "interval of the device model, from the leave-one-out residuals "
            "of its fit to published latencies (bfbench calibrate).");
    if (measured + predicted < dd->n_devices)
        put(&f, &f.caption,
            " Devices without bars: modeled with no interval (the profile "
            "states none).");
    put(&f, &f.caption, " Results DB %s.", bf_buf_str(&r->text));
    if (rc == 0)
        rc = emit(pl, &f);
    figure_free(&f);
    return rc;
}

/*
 * The rate of the energy and breakdown figures: the one asked for, or the
 * highest of the model's cases; NaN when no case had an emulated rate
 * (only configurations that send nothing are shown). 0, or 1 when the
 * asked rate is absent (the figure is skipped).
 */
static int dev_rate(struct plot *pl, const struct dev_data *dd,
                    const char *what, const char *model, double *rate)
{
    double want = pl->p->rate_mbps;

    *rate = dd->n_rates ? dd->rates[dd->n_rates - 1] : NAN;
    if (want > 0) {
        for (size_t i = 0; i < dd->n_rates; i++) {
            if (same_rate(dd->rates[i], want)) {
                *rate = dd->rates[i];
                return 0;
            }
        }
        {
            char list[256] = "none";
            size_t off = 0;

            for (size_t i = 0; i < dd->n_rates && off < sizeof(list); i++)
                off += (size_t)snprintf(list + off, sizeof(list) - off, "%s%g",
                                        i ? ", " : "", dd->rates[i]);
            bf_log_info("plot: %s figure of %s skipped: no case at %g "
                        "Mbit/s (rates: %s)",
                        what, model, want, list);
        }
        return 1;
    }
    return 0;
}

static void put_rate(struct figure *f, double rate)
{
    if (isnan(rate))
        put(f, &f->caption, "without an emulated link");
    else
        put(f, &f->caption, "at %g Mbit/s uplink", rate);
}

/* Figure 3: energy per inference and average power. */
static int fig_energy(struct plot *pl, const struct runs *r, const char *model,
                      const struct dev_data *dd)
{
    static const char *const blocks_of[] = {"energy_mj", "avg_power_mw"};
    struct figure f;
    double rate;
    int rc, rows = 0;
    size_t predicted = 0;

    if (dev_rate(pl, dd, "energy", model, &rate))
        return 0;
    figure_init(&f, "energy", model, 1000, 600);
    for (size_t b = 0; b < 2; b++) {
        put(&f, &f.data, "%s%s", b ? "\n\n" : "", blocks_of[b]);
        for (size_t d = 0; d < dd->n_devices; d++) {
            put(&f, &f.data, "\t%s", dd->devices[d]);
            /* Energy: each device's value with its interval's ends. */
            if (b == 0)
                put(&f, &f.data, "\t%s lo\t%s hi", dd->devices[d],
                    dd->devices[d]);
        }
        put(&f, &f.data, "\n");
        for (size_t k = 0; k < dd->n_series; k++) {
            int any = 0;

            for (size_t d = 0; d < dd->n_devices && !any; d++)
                any = dev_at(dd, k, d, rate) != NULL;
            if (!any)
                continue;
            put(&f, &f.data, "%s", dd->series[k].label);
            for (size_t d = 0; d < dd->n_devices; d++) {
                const struct dev_point *p = dev_at(dd, k, d, rate);

                put(&f, &f.data, "\t");
                put_num(&f, b ? "%.1f" : "%.3f",
                        !p  ? NAN
                        : b ? p->power_mw
                            : p->energy_mj);
                if (b == 0) {
                    /* No interval: a bar of no length at the value. */
                    int has = p && !isnan(p->energy_lo_mj);

                    predicted += has;
                    put(&f, &f.data, "\t");
                    put_num(&f, "%.3f",
                            !p    ? NAN
                            : has ? p->energy_lo_mj
                                  : p->energy_mj);
                    put(&f, &f.data, "\t");
                    put_num(&f, "%.3f",
                            !p    ? NAN
                            : has ? p->energy_hi_mj
                                  : p->energy_mj);
                }
            }
            put(&f, &f.data, "\n");
            rows++;
        }
    }
    put(&f, &f.title, "%s: energy per inference and average power", model);
    put(&f, &f.caption,
        "Energy per inference (mean over requests, mJ) and average device "
        "power during a request (mW), ");
    put_rate(&f, rate);
    put(&f, &f.caption, " (sending nothing: ");
    put_unsent(&f, dd);
    put(&f, &f.caption, "). Power: ");
    rc = put_texts(pl, &f, r, model, BF_STORE_TEXT_POWER_METHODS, "; ", NULL);
    if (rc == 0) {
        put(&f, &f.caption, ". Device compute time: ");
        rc = put_texts(pl, &f, r, model, BF_STORE_TEXT_LATENCY_METHODS, "; ",
                       NULL);
    }
    if (rc == 0) {
        put(&f, &f.caption, "; encoding and network time: ");
        rc = dev_put_host_methods(pl, &f, r, model);
    }
    if (predicted)
        put(&f, &f.caption,
            ". Energy bars: the energy with the modeled device compute "
            "time at either end of its 90 %% prediction interval (power "
            "states unchanged; bars of no length: measured or no "
            "interval)");
    put(&f, &f.caption, ". Results DB %s.", bf_buf_str(&r->text));
    if (rc == 0 && rows > 0)
        rc = emit(pl, &f);
    figure_free(&f);
    return rc;
}

#define BRK_COLUMNS                                                            \
    "head\tencode\ttransfer\tqueue\tdecode\ttail\te2e\tdevice\te2e_lo_ms\t"    \
    "e2e_hi_ms"

static double or_zero(double v)
{
    return isnan(v) ? 0.0 : v;
}

/* Figure 4: latency stages as stacked bars, a panel per device. */
static int fig_breakdown(struct plot *pl, const struct runs *r,
                         const char *model, const struct dev_data *dd)
{
    struct figure f;
    double rate;
    int blocks = 0, bars = 0, rc;

    if (dev_rate(pl, dd, "breakdown", model, &rate))
        return 0;
    figure_init(&f, "breakdown", model,
                dd->n_devices > 2 ? 60 + 420 * (int)dd->n_devices : 1000, 640);
    for (size_t d = 0; d < dd->n_devices; d++) {
        int rows = 0;

        for (size_t k = 0; k < dd->n_series; k++) {
            const struct dev_point *p = dev_at(dd, k, d, rate);

            if (!p)
                continue;
            if (rows++ == 0) {
                put(&f, &f.data, "%sconfiguration\t" BRK_COLUMNS "\n",
                    blocks++ ? "\n\n" : "");
            }
            put(&f, &f.data, "%s\t%.4f\t%.4f\t%.4f\t%.4f\t%.4f\t%.4f\t",
                dd->series[k].label, or_zero(p->head_ms), or_zero(p->encode_ms),
                or_zero(p->transfer_ms), or_zero(p->queue_ms),
                or_zero(p->decode_ms), or_zero(p->tail_ms));
            put_num(&f, "%.4f", p->e2e_ms);
            put(&f, &f.data, "\t%s\t", dd->devices[d]);
            put_num(&f, "%.4f", p->e2e_lo_ms);
            put(&f, &f.data, "\t");
            put_num(&f, "%.4f", p->e2e_hi_ms);
            put(&f, &f.data, "\n");
            bars += !isnan(p->e2e_lo_ms);
        }
    }
    put(&f, &f.title, "%s: latency breakdown per configuration", model);
    put(&f, &f.caption, "Latency stages per request (ms), ");
    put_rate(&f, rate);
    put(&f, &f.caption, ". head: device compute time, ");
    rc = put_texts(pl, &f, r, model, BF_STORE_TEXT_LATENCY_METHODS, "; ", NULL);
    if (rc == 0) {
        put(&f, &f.caption,
            ". encode and transfer (uplink, propagation and reply): medians "
            "over the case's requests; edge queue, decode and tail: p50 of "
            "their own samples; all ");
        rc = dev_put_host_methods(pl, &f, r, model);
    }
    put(&f, &f.caption,
        ". Medians do not add up exactly: the dot is the median end-to-end "
        "latency%s. Results DB %s.",
        bars ? ", its bar the 95 % bootstrap interval of that median "
               "(measured device time) or the 90 % prediction interval of the "
               "device model (modeled)"
             : " (no interval recorded)",
        bf_buf_str(&r->text));
    if (rc == 0 && blocks > 0)
        rc = emit(pl, &f);
    figure_free(&f);
    return rc;
}

/* Figure 5: what runs on the device */

struct head_row {
    char config[NAME_SIZE];
    int rank;
    int channels;
    int sent;
    double params, macs;
};

struct head_rows {
    struct head_row *r;
    size_t n, cap;
};

static int add_head_row(const struct bf_head_size_view *v, void *ctx)
{
    struct head_rows *hr = ctx;
    struct head_row *h;
    void *g = grow(hr->r, hr->n, &hr->cap, sizeof(*hr->r));

    if (!g)
        return BF_ENOMEM;
    hr->r = g;
    h = &hr->r[hr->n++];
    cell(h->config, v->config);
    h->rank = config_rank(h->config);
    h->channels = v->bottleneck_channels;
    h->sent = v->sent;
    h->params = v->params;
    h->macs = v->macs;
    return 0;
}

/* The paper's order of configurations, then bottleneck channels. */
static int head_row_cmp(const void *pa, const void *pb)
{
    const struct head_row *a = pa, *b = pb;
    int c;

    if (a->rank != b->rank)
        return a->rank < b->rank ? -1 : 1;
    if ((c = strcmp(a->config, b->config)) != 0)
        return c;
    return (a->channels > b->channels) - (a->channels < b->channels);
}

static int fig_head(struct plot *pl, const struct runs *r, const char *model)
{
    struct head_rows hr = {0};
    const struct head_row *rows;
    size_t n, shown = 0, omitted = 0;
    struct bf_buf omit;
    struct figure f;
    int rc;

    figure_init(&f, "head", model, 900, 600);
    bf_buf_init(&omit);
    rc = bf_store_each_head_size(pl->store, r->ids, r->n, model, add_head_row,
                                 &hr);
    if (rc)
        goto out;
    if (hr.n > 1)
        qsort(hr.r, hr.n, sizeof(*hr.r), head_row_cmp);
    rows = hr.r;
    n = hr.n;
    put(&f, &f.data, "configuration\tparams\tmacs\n");
    for (size_t i = 0; i < n; i++) {
        const struct head_row *h = &rows[i];
        int several = (i > 0 && strcmp(rows[i - 1].config, h->config) == 0) ||
                      (i + 1 < n && strcmp(rows[i + 1].config, h->config) == 0);
        char label[2 * NAME_SIZE];

        if (several)
            snprintf(label, sizeof(label), "%s C=%d", h->config, h->channels);
        else
            snprintf(label, sizeof(label), "%s", h->config);
        if (isnan(h->params) || isnan(h->macs) || h->params <= 0 ||
            h->macs <= 0) {
            put(&f, &omit, "%s%s", omitted++ ? ", " : "", label);
            continue;
        }
        put(&f, &f.data, "%s\t%.0f\t%.0f\n", label, h->params, h->macs);
        shown++;
    }
    if (shown == 0) {
        bf_log_info("plot: head figure of %s skipped: no case with a model "
                    "on the device in %s",
                    model, bf_buf_str(&r->text));
        goto out;
    }
    put(&f, &f.title, "%s: model size and work on the device", model);
    put(&f, &f.caption,
        "Parameters and multiply-accumulates (MACs) per image of what runs "
        "on the device (log scale), counted from the model, not measured: "
        "the whole model for a configuration that sends nothing, else the "
        "head that runs before the split (the bottleneck encoder, or the "
        "layers up to the split with an autoencoder's encoder or the early "
        "exits).");
    if (omitted)
        put(&f, &f.caption,
            " Not shown (no model on the device, nothing to draw on a log "
            "scale): %s.",
            bf_buf_str(&omit));
    put(&f, &f.caption, " Results DB %s.", bf_buf_str(&r->text));
    rc = emit(pl, &f);
out:
    free(hr.r);
    bf_buf_free(&omit);
    figure_free(&f);
    return rc;
}

/* Rendering */

static int note_run(const struct bf_run_view *v, void *ctx)
{
    (void)v;
    *(int *)ctx = 1;
    return 0;
}

/* Every given run must exist (ids are positive: the store's run
 * selections 0 and -1 are not run ids). */
static int check_runs(struct plot *pl)
{
    for (size_t i = 0; i < pl->p->n_run_ids; i++) {
        int found = 0;
        int rc = pl->p->run_ids[i] > 0
                     ? bf_store_each_run(pl->store, pl->p->run_ids[i], note_run,
                                         &found)
                     : 0;

        if (rc)
            return rc;
        if (!found)
            return bf_err_set(BF_ERANGE, "%s: no run %lld", pl->db_path,
                              (long long)pl->p->run_ids[i]);
    }
    return 0;
}

/* The models with rows of a kind in the given runs, or in all. */
static int kind_models(struct plot *pl, enum bf_store_figure_rows rows,
                       struct models *m)
{
    return bf_store_each_figure_model(pl->store, rows, pl->p->run_ids,
                                      pl->p->n_run_ids, add_model, m);
}

static int render_accuracy(struct plot *pl)
{
    struct models m = {0};
    int rc = kind_models(pl, BF_STORE_FIGURE_ACCURACY, &m);

    if (rc == 0 && m.n == 0)
        bf_log_info("plot: accuracy figures skipped: no accuracy rows%s",
                    pl->p->n_run_ids ? " in the runs given" : "");
    for (size_t i = 0; rc == 0 && i < m.n; i++) {
        struct runs r;

        runs_init(&r);
        rc = select_runs(pl, BF_STORE_FIGURE_ACCURACY, m.names[i], &r);
        if (rc == 0 && r.n > 0)
            rc = fig_accuracy(pl, &r, m.names[i]);
        runs_free(&r);
    }
    free(m.names);
    return rc;
}

static int render_train(struct plot *pl)
{
    struct models m = {0};
    int rc = kind_models(pl, BF_STORE_FIGURE_EPOCHS, &m);

    if (rc == 0 && m.n == 0)
        bf_log_info("plot: training-curve figures skipped: no epoch rows%s",
                    pl->p->n_run_ids ? " in the runs given" : "");
    for (size_t i = 0; rc == 0 && i < m.n; i++) {
        struct runs r;

        runs_init(&r);
        rc = select_runs(pl, BF_STORE_FIGURE_EPOCHS, m.names[i], &r);
        if (rc == 0 && r.n > 0)
            rc = fig_train(pl, &r, m.names[i]);
        runs_free(&r);
    }
    free(m.names);
    return rc;
}

static int render_devices(struct plot *pl)
{
    struct models m = {0};
    int rc = kind_models(pl, BF_STORE_FIGURE_DEVICES, &m);

    if (rc == 0 && m.n == 0)
        bf_log_info("plot: latency, energy, breakdown and head figures "
                    "skipped: no device rows%s",
                    pl->p->n_run_ids ? " in the runs given" : "");
    for (size_t i = 0; rc == 0 && i < m.n; i++) {
        struct dev_data dd;
        struct runs r;

        runs_init(&r);
        rc = select_runs(pl, BF_STORE_FIGURE_DEVICES, m.names[i], &r);
        if (rc || r.n == 0) {
            runs_free(&r);
            continue;
        }
        rc = dev_load(pl, &r, m.names[i], &dd);
        if (rc == 0)
            rc = fig_latency(pl, &r, m.names[i], &dd);
        if (rc == 0)
            rc = fig_energy(pl, &r, m.names[i], &dd);
        if (rc == 0)
            rc = fig_breakdown(pl, &r, m.names[i], &dd);
        if (rc == 0)
            rc = fig_head(pl, &r, m.names[i]);
        dev_data_free(&dd);
        runs_free(&r);
    }
    free(m.names);
    return rc;
}

int bf_plot_render(const char *db_path, const struct bf_plot_params *params,
                   FILE *out)
{
    struct plot pl = {.p = params, .db_path = db_path, .out = out};
    struct stat st;
    int rc;

    if (!db_path || !db_path[0] || !params || !params->out_dir ||
        !params->out_dir[0] || !params->scripts_dir ||
        (params->n_run_ids > 0 && !params->run_ids) ||
        !(params->rate_mbps >= 0))
        return bf_err_set(BF_EINVAL, "plot: bad parameters");
    pl.gnuplot = params->gnuplot ? params->gnuplot : "gnuplot";
    if (stat(db_path, &st) != 0)
        return bf_err_set(BF_ENOENT, "no results DB at '%s'", db_path);
    rc = bf_store_open_readonly(db_path, &pl.store);
    if (rc)
        return rc;
    rc = check_runs(&pl);
    if (rc == 0)
        rc = render_accuracy(&pl);
    if (rc == 0)
        rc = render_train(&pl);
    if (rc == 0)
        rc = render_devices(&pl);
    if (rc == 0 && pl.written == 0)
        rc = bf_err_set(BF_ENOENT,
                        "%s: nothing to plot (no accuracy rows, "
                        "no epoch rows and no device rows%s)",
                        db_path, params->n_run_ids ? " in the runs given" : "");
    bf_store_close(pl.store);
    return rc;
}
