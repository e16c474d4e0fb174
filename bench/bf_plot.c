/*
 * bf_plot: figures from the results DB through gnuplot.
 *
 * Each figure is built in memory first: its data rows (tab-separated, a
 * fixed printf format per column, rows in SQL ORDER BY order), its title
 * and its caption, composed from what the DB says about how the numbers
 * were obtained. Then the data file is written with a comment header that
 * holds the gnuplot command rendering it by hand, and gnuplot renders the
 * SVG and the PNG. The data files are self-describing for the scripts:
 * blocks (separated by two blank lines) start with a header line whose
 * first cell is the series title, and rows carry their line style and
 * panel, so a script needs no variable but the file name to draw them.
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

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <spawn.h>
#include <sqlite3.h>
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

/* The configurations in the paper's order; others follow by name. */
#define CONFIG_RANK_SQL                                                        \
    "CASE c.config WHEN 'local' THEN 1 WHEN 'edge' THEN 2 WHEN 'bottlefit' "   \
    "THEN 3 WHEN 'ae-split' THEN 4 WHEN 'spinn-split' THEN 5 ELSE 6 END"

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
    sqlite3 *db;
    FILE *out;
    int dir_made; /* the output directory exists */
    int written;  /* figures written */
};

/* The runs a figure kind reads. */
struct runs {
    struct bf_buf ids;  /* "1,3": for SQL, digits and commas only */
    struct bf_buf text; /* "run 1 (net-small)": for captions */
};

struct figure {
    const char *kind; /* file prefix and script name */
    char stem[2 * NAME_SIZE];
    int width_px;
    int height_px;
    struct bf_buf data;
    struct bf_buf title;
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

/* Append to buf unless *rc holds a failure; keep the first one in *rc. */
static void putf(int *rc, struct bf_buf *buf, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void putf(int *rc, struct bf_buf *buf, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    put_v(buf, rc, fmt, ap);
    va_end(ap);
}

/* putf() with the figure's failure. */
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
 * The variables of one render: sizes, title, caption (wrapped to the
 * canvas), data and output files. file_dir prefixes the file names ("" in
 * the by-hand command, which runs in the output directory).
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

/* Reading the DB */

static int db_fail(struct plot *pl, const char *what)
{
    return bf_err_set(BF_EDB, "%s: %s: %s", pl->db_path, what,
                      sqlite3_errmsg(pl->db));
}

static int prepare_v(struct plot *pl, sqlite3_stmt **stmt, const char *what,
                     const char *fmt, va_list ap)
{
    struct bf_buf sql;
    int rc = 0;

    *stmt = NULL;
    bf_buf_init(&sql);
    put_v(&sql, &rc, fmt, ap);
    if (rc == 0 && sqlite3_prepare_v2(pl->db, bf_buf_str(&sql), -1, stmt,
                                      NULL) != SQLITE_OK)
        rc = db_fail(pl, what);
    bf_buf_free(&sql);
    return rc;
}

/* Prepare SQL built from fmt (the run list goes in with %s). */
static int prepare(struct plot *pl, sqlite3_stmt **stmt, const char *what,
                   const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static int prepare(struct plot *pl, sqlite3_stmt **stmt, const char *what,
                   const char *fmt, ...)
{
    va_list ap;
    int rc;

    va_start(ap, fmt);
    rc = prepare_v(pl, stmt, what, fmt, ap);
    va_end(ap);
    return rc;
}

/* Step a statement: 1 for a row, 0 at the end, or an error. */
static int step(struct plot *pl, sqlite3_stmt *stmt, const char *what)
{
    int rc = sqlite3_step(stmt);

    if (rc == SQLITE_ROW)
        return 1;
    if (rc == SQLITE_DONE)
        return 0;
    return db_fail(pl, what);
}

static double col_real(sqlite3_stmt *stmt, int col)
{
    if (sqlite3_column_type(stmt, col) == SQLITE_NULL)
        return NAN;
    return sqlite3_column_double(stmt, col);
}

static void col_name(sqlite3_stmt *stmt, int col, char *out)
{
    const unsigned char *s = sqlite3_column_text(stmt, col);

    cell(out, s ? (const char *)s : "");
}

/*
 * Append to buf the non-empty values of a one-column query built from fmt
 * (the model bound as ?1), separated by sep; *n (may be NULL) receives
 * their number.
 */
static int put_list(struct plot *pl, struct figure *f, struct bf_buf *buf,
                    const char *sep, const char *model, size_t *n,
                    const char *fmt, ...) __attribute__((format(printf, 7, 8)));

static int put_list(struct plot *pl, struct figure *f, struct bf_buf *buf,
                    const char *sep, const char *model, size_t *n,
                    const char *fmt, ...)
{
    sqlite3_stmt *st;
    size_t count = 0;
    va_list ap;
    int rc;

    va_start(ap, fmt);
    rc = prepare_v(pl, &st, "reading caption details", fmt, ap);
    va_end(ap);
    if (rc)
        return rc;
    sqlite3_bind_text(st, 1, model, -1, SQLITE_STATIC);
    while ((rc = step(pl, st, "reading caption details")) == 1) {
        const unsigned char *s = sqlite3_column_text(st, 0);

        if (!s || !s[0])
            continue;
        put(f, buf, "%s%s", count ? sep : "", (const char *)s);
        count++;
    }
    sqlite3_finalize(st);
    if (n)
        *n = count;
    return rc < 0 ? rc : 0;
}

/* Runs */

static void runs_init(struct runs *r)
{
    bf_buf_init(&r->ids);
    bf_buf_init(&r->text);
}

static void runs_free(struct runs *r)
{
    bf_buf_free(&r->ids);
    bf_buf_free(&r->text);
}

/*
 * The runs of a model's figure: the given ones, or the runs newest_sql
 * (the model bound as ?1; one run id per row, NULL rows ignored) finds.
 * Leaves r->ids empty when there is none. r->text names them with their
 * scenarios.
 */
static int select_runs(struct plot *pl, const char *newest_sql,
                       const char *model, struct runs *r)
{
    struct bf_buf list;
    sqlite3_stmt *st;
    size_t n = 0;
    int prc = 0;
    int rc;

    if (pl->p->n_run_ids > 0) {
        for (size_t i = 0; i < pl->p->n_run_ids; i++)
            putf(&prc, &r->ids, "%s%lld", i ? "," : "",
                 (long long)pl->p->run_ids[i]);
    } else {
        rc = prepare(pl, &st, "finding the newest run", "%s", newest_sql);
        if (rc)
            return rc;
        sqlite3_bind_text(st, 1, model, -1, SQLITE_STATIC);
        while ((rc = step(pl, st, "finding the newest run")) == 1)
            if (sqlite3_column_type(st, 0) != SQLITE_NULL)
                putf(&prc, &r->ids, "%s%lld", r->ids.len ? "," : "",
                     (long long)sqlite3_column_int64(st, 0));
        sqlite3_finalize(st);
        if (rc < 0)
            return rc;
    }
    if (prc || r->ids.len == 0)
        return prc;
    rc = prepare(pl, &st, "reading runs",
                 "SELECT id, scenario_name FROM runs WHERE id IN (%s) "
                 "ORDER BY id",
                 bf_buf_str(&r->ids));
    if (rc)
        return rc;
    bf_buf_init(&list);
    while ((rc = step(pl, st, "reading runs")) == 1) {
        const unsigned char *name = sqlite3_column_text(st, 1);

        putf(&prc, &list, "%s%lld", n++ ? ", " : "",
             (long long)sqlite3_column_int64(st, 0));
        if (name && name[0])
            putf(&prc, &list, " (%s)", (const char *)name);
    }
    sqlite3_finalize(st);
    /* "run 1 (x)" or "runs 1 (x), 3 (y)". */
    putf(&prc, &r->text, "%s %s", n == 1 ? "run" : "runs", bf_buf_str(&list));
    bf_buf_free(&list);
    return rc < 0 ? rc : prc;
}

/* Every model with rows in the runs (one name per NAME_SIZE slot). */
static int list_models(struct plot *pl, const char *sql, const char *ids,
                       char (**models)[NAME_SIZE], size_t *n)
{
    sqlite3_stmt *st;
    size_t cap = 0;
    int rc;

    *models = NULL;
    *n = 0;
    rc = prepare(pl, &st, "listing models", sql, ids);
    if (rc)
        return rc;
    while ((rc = step(pl, st, "listing models")) == 1) {
        if (*n == cap) {
            size_t ncap = cap ? cap * 2 : 8;
            char(*grown)[NAME_SIZE] = realloc(*models, ncap * NAME_SIZE);

            if (!grown) {
                rc = bf_err_set(BF_ENOMEM, "listing models");
                break;
            }
            *models = grown;
            cap = ncap;
        }
        col_name(st, 0, (*models)[*n]);
        (*n)++;
    }
    sqlite3_finalize(st);
    return rc < 0 ? rc : 0;
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

#define STRATEGY_RANK_SQL                                                      \
    "CASE c.strategy WHEN 'naive' THEN 1 WHEN 'kd' THEN 2 WHEN 'hnd' THEN 3 "  \
    "WHEN 'ghnd' THEN 4 WHEN 'ghnd-ft' THEN 5 WHEN 'ghnd-kd' THEN 6 WHEN "     \
    "'bottlefit' THEN 7 WHEN 'ae-split' THEN 8 WHEN 'spinn-split' THEN 9 "     \
    "WHEN 'jpeg' THEN 11 WHEN 'teacher' THEN 12 ELSE 10 END"

/* What an accuracy row is on the figure. */
enum { ACC_INT8 = 0, ACC_EXIT = 1, ACC_JPEG = 2, ACC_OTHER = 3 };

#define ACC_KIND_SQL                                                           \
    "CASE WHEN a.variant = 'int8' THEN 0 WHEN a.variant GLOB 'exit-t*' THEN "  \
    "1 WHEN a.variant GLOB 'jpeg-q[0-9]*' AND substr(a.variant, 7) NOT GLOB "  \
    "'*[^0-9]*' THEN 2 ELSE 3 END"

/* The rows of the figure: finished cases of the runs, test split. */
#define ACC_FROM                                                               \
    " FROM accuracy a JOIN cases c ON c.id = a.case_id WHERE c.run_id IN "     \
    "(%s) AND c.model = ?1 AND c.status = 'finished' AND a.split = 'test' "    \
    "AND c.strategy IS NOT NULL"

/* Per scenario, the newest run with accuracy rows, those over the network
 * aside: the members of a suite (a BottleFit sweep and its baselines) in
 * one figure, as report --paper reads them. */
#define ACC_NEWEST_SQL                                                         \
    "SELECT max(c.run_id) FROM accuracy a JOIN cases c ON c.id = a.case_id "   \
    "JOIN runs r ON r.id = c.run_id WHERE c.model = ?1 AND c.status = "        \
    "'finished' AND a.split = 'test' AND a.variant <> 'network' AND "          \
    "c.strategy IS NOT NULL GROUP BY r.scenario_name ORDER BY 1"

#define ACC_MODELS_SQL                                                         \
    "SELECT DISTINCT c.model FROM accuracy a JOIN cases c ON c.id = "          \
    "a.case_id WHERE c.run_id IN (%s) AND c.status = 'finished' AND "          \
    "a.split = 'test' AND a.variant <> 'network' AND c.strategy IS NOT NULL "  \
    "ORDER BY c.model"

/*
 * A strategy's line style: its own for its first series (by the figure's
 * order, the plain one before its "fe" one), then the next extra.
 * *taken remembers which own styles are in use.
 */
static int strategy_style(const char *name, unsigned *taken, int *extra)
{
    for (size_t i = 0; i < sizeof(strategies) / sizeof(strategies[0]); i++) {
        if (strcmp(strategies[i].name, name) == 0) {
            if (*taken & (1u << i))
                break;
            *taken |= 1u << i;
            return strategies[i].style;
        }
    }
    return STYLE_EXTRA + (*extra)++ % STYLE_EXTRA_N;
}

/* What the accuracy figure found, for its caption. */
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

#define ACC_COLUMNS "payload_bytes\ttop1_pct\tstyle\tlabel"

static int acc_rows(struct plot *pl, struct figure *f, const char *ids,
                    const char *model, struct acc_found *a)
{
    char cur[2 * NAME_SIZE] = "";
    sqlite3_stmt *st;
    int blocks = 0, extra = 0, style = 0;
    unsigned taken = 0;
    int rc;

    rc = prepare(pl, &st, "reading accuracy rows",
                 "SELECT c.strategy, coalesce(c.freeze_encoder, 0) AS fe, "
                 "coalesce(c.bottleneck_channels, 0) AS ch, a.variant, "
                 "" ACC_KIND_SQL " AS kind, avg(a.payload_bytes) AS bytes, "
                 "avg(a.top1), CAST(substr(a.variant, 7) AS REAL)" ACC_FROM
                 " GROUP BY c.strategy, fe, ch, a.variant ORDER "
                 "BY " STRATEGY_RANK_SQL ", c.strategy, fe, kind, bytes, ch, "
                 "a.variant",
                 ids);
    if (rc)
        return rc;
    sqlite3_bind_text(st, 1, model, -1, SQLITE_STATIC);
    while ((rc = step(pl, st, "reading accuracy rows")) == 1) {
        char strategy[NAME_SIZE], title[2 * NAME_SIZE], label[32] = "";
        const unsigned char *variant = sqlite3_column_text(st, 3);
        int fe = sqlite3_column_int(st, 1);
        int ch = sqlite3_column_int(st, 2);
        int kind = sqlite3_column_int(st, 4);
        double bytes = col_real(st, 5), top1 = col_real(st, 6);
        double param = col_real(st, 7);
        int series_style;

        col_name(st, 0, strategy);
        if (strcmp(strategy, "teacher") == 0 && variant &&
            strcmp((const char *)variant, "fp32") == 0) {
            a->teacher = top1;
            continue;
        }
        if (kind == ACC_OTHER || isnan(bytes) || isnan(top1) || bytes <= 0)
            continue;
        if (kind == ACC_JPEG) {
            int q = (int)param;

            snprintf(title, sizeof(title), "JPEG input (%s)",
                     strcmp(strategy, "jpeg") == 0 ? "teacher" : strategy);
            snprintf(label, sizeof(label), "q%d", q);
            series_style = STYLE_EDGE;
            a->q_min = a->have_jpeg && a->q_min < q ? a->q_min : q;
            a->q_max = a->have_jpeg && a->q_max > q ? a->q_max : q;
            a->have_jpeg = 1;
        } else if (kind == ACC_EXIT) {
            snprintf(title, sizeof(title), "%s%s exit rule", strategy,
                     fe ? " fe" : "");
            series_style = STYLE_CURVE;
            a->t_min = a->have_exit && a->t_min < param ? a->t_min : param;
            a->t_max = a->have_exit && a->t_max > param ? a->t_max : param;
            a->have_exit = 1;
        } else {
            snprintf(title, sizeof(title), "%s%s (8-bit)", strategy,
                     fe ? " fe" : "");
            series_style = 0; /* chosen when the series starts */
            a->have_fe |= fe;
            if (ch > 0) {
                snprintf(label, sizeof(label), "C=%d", ch);
                a->c_min = a->have_int8 && a->c_min < ch ? a->c_min : ch;
                a->c_max = a->have_int8 && a->c_max > ch ? a->c_max : ch;
            }
            a->have_int8 = 1;
        }
        if (strcmp(title, cur) != 0) {
            snprintf(cur, sizeof(cur), "%s", title);
            style = series_style ? series_style
                                 : strategy_style(strategy, &taken, &extra);
            start_block(f, &blocks, title, ACC_COLUMNS);
        }
        put(f, &f->data, "%.1f\t%.2f\t%d\t%s\n", bytes, top1, style, label);
        a->xmin = bytes < a->xmin ? bytes : a->xmin;
        a->xmax = bytes > a->xmax ? bytes : a->xmax;
        a->points++;
    }
    sqlite3_finalize(st);
    if (rc < 0)
        return rc;
    if (a->points > 0 && !isnan(a->teacher)) {
        start_block(f, &blocks, "teacher fp32 (uncompressed input)",
                    ACC_COLUMNS);
        put(f, &f->data, "%.1f\t%.2f\t%d\t\n%.1f\t%.2f\t%d\t\n", a->xmin,
            a->teacher, STYLE_TEACHER, a->xmax, a->teacher, STYLE_TEACHER);
    }
    return 0;
}

static int acc_caption(struct plot *pl, struct figure *f, const char *ids,
                       const char *model, const struct acc_found *a,
                       const char *runs_text)
{
    struct bf_buf *cap = &f->caption;
    sqlite3_stmt *st;
    int rc;

    put(f, cap, "Top-1 accuracy (%%) on the test split (");
    rc = prepare(pl, &st, "reading accuracy details",
                 "SELECT group_concat(DISTINCT c.dataset), min(a.n), "
                 "max(a.n)" ACC_FROM,
                 ids);
    if (rc)
        return rc;
    sqlite3_bind_text(st, 1, model, -1, SQLITE_STATIC);
    rc = step(pl, st, "reading accuracy details");
    if (rc == 1) {
        const unsigned char *ds = sqlite3_column_text(st, 0);
        long long n_min = sqlite3_column_int64(st, 1);
        long long n_max = sqlite3_column_int64(st, 2);

        if (ds && ds[0])
            put(f, cap, "%s, ", (const char *)ds);
        if (n_min == n_max)
            put(f, cap, "%lld images", n_min);
        else
            put(f, cap, "%lld to %lld images", n_min, n_max);
    }
    sqlite3_finalize(st);
    if (rc < 0)
        return rc;
    put(f, cap, "; ");
    rc = put_list(pl, f, cap, ", ", model, NULL,
                  "SELECT DISTINCT a.method" ACC_FROM " ORDER BY 1", ids);
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
    if (!isnan(a->teacher))
        put(f, cap, " Dashed: the teacher's top-1 on uncompressed input.");
    put(f, cap, " Results DB %s.", runs_text);
    return 0;
}

static int fig_accuracy(struct plot *pl, const struct runs *r,
                        const char *model)
{
    const char *ids = bf_buf_str(&r->ids);
    struct acc_found a = {.xmin = INFINITY, .xmax = -INFINITY, .teacher = NAN};
    struct figure f;
    int rc;

    figure_init(&f, "accuracy", model, 900, 660);
    rc = acc_rows(pl, &f, ids, model, &a);
    if (rc == 0 && a.points == 0) {
        bf_log_info("plot: accuracy figure of %s skipped: no accuracy row "
                    "with a payload in %s",
                    model, bf_buf_str(&r->text));
        goto out;
    }
    put(&f, &f.title, "%s: top-1 accuracy vs bytes sent per image", model);
    if (rc == 0)
        rc = acc_caption(pl, &f, ids, model, &a, bf_buf_str(&r->text));
    if (rc == 0)
        rc = emit(pl, &f);
out:
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
    int cases;
    int series; /* index in dev_data.series */
    double e2e_ms, head_ms, encode_ms, transfer_ms;
    double queue_ms, decode_ms, tail_ms; /* p50 of the case's samples */
    double energy_mj, power_mw;
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
    size_t n;
    struct dev_series *series;
    size_t n_series;
    char (*devices)[NAME_SIZE];
    size_t n_devices;
    double *rates; /* emulated uplink rates, ascending */
    size_t n_rates;
};

/* Device rows of finished cases of the runs, for one model (?1). */
#define DEV_FROM                                                               \
    " FROM device_results d JOIN cases c ON c.id = d.case_id WHERE "           \
    "c.run_id IN (%s) AND c.model = ?1 AND c.status = 'finished' AND "         \
    "d.role = 'device'"

#define DEV_NEWEST_SQL                                                         \
    "SELECT max(c.run_id) FROM device_results d JOIN cases c ON c.id = "       \
    "d.case_id WHERE c.model = ?1 AND c.status = 'finished' AND d.role = "     \
    "'device'"

#define DEV_MODELS_SQL                                                         \
    "SELECT DISTINCT c.model FROM device_results d JOIN cases c ON c.id = "    \
    "d.case_id WHERE c.run_id IN (%s) AND c.status = 'finished' AND d.role "   \
    "= 'device' ORDER BY c.model"

/*
 * The model's device rows, grouped by what tells series apart and averaged
 * over the cases of a group (repeats, runs); the edge server's stages are
 * the p50 of the case's aggregates.
 */
#define DEV_POINTS_SQL                                                         \
    "SELECT d.device, c.config, " CONFIG_RANK_SQL " AS rank, "                 \
    "coalesce(c.bottleneck_channels, 0) AS ch, "                               \
    "coalesce(c.background_clients, 0) AS bg, c.link IS NOT NULL AS sent, "    \
    "c.link_rate_mbps AS rate, count(*), avg(d.e2e_ms), avg(d.head_ms), "      \
    "avg(d.encode_ms), avg(d.transfer_ms), avg(q.p50), avg(dc.p50), "          \
    "avg(t.p50), avg(d.energy_mj), avg(d.avg_power_mw) "                       \
    "FROM device_results d JOIN cases c ON c.id = d.case_id "                  \
    "LEFT JOIN aggregates q ON q.case_id = c.id AND q.metric = "               \
    "'server_queue' "                                                          \
    "LEFT JOIN aggregates dc ON dc.case_id = c.id AND dc.metric = "            \
    "'server_decode' "                                                         \
    "LEFT JOIN aggregates t ON t.case_id = c.id AND t.metric = 'tail' "        \
    "WHERE c.run_id IN (%s) AND c.model = ?1 AND c.status = 'finished' AND "   \
    "d.role = 'device' GROUP BY d.device, c.config, ch, bg, sent, rate "       \
    "ORDER BY d.device, rank, c.config, ch, bg, sent, rate"

static void dev_data_free(struct dev_data *dd)
{
    free(dd->pts);
    free(dd->series);
    free(dd->devices);
    free(dd->rates);
    memset(dd, 0, sizeof(*dd));
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

/* Read the model's device rows, their series, devices and rates. */
static int dev_load(struct plot *pl, const char *ids, const char *model,
                    struct dev_data *dd)
{
    size_t cap = 0, dcap = 0, rcap = 0;
    sqlite3_stmt *st;
    int rc;

    memset(dd, 0, sizeof(*dd));
    rc = prepare(pl, &st, "reading device rows", DEV_POINTS_SQL, ids);
    if (rc)
        return rc;
    sqlite3_bind_text(st, 1, model, -1, SQLITE_STATIC);
    while ((rc = step(pl, st, "reading device rows")) == 1) {
        struct dev_point *p;
        void *g;

        g = grow(dd->pts, dd->n, &cap, sizeof(*dd->pts));
        if (!g) {
            rc = BF_ENOMEM;
            break;
        }
        dd->pts = g;
        p = &dd->pts[dd->n++];
        memset(p, 0, sizeof(*p));
        col_name(st, 0, p->device);
        col_name(st, 1, p->config);
        p->rank = sqlite3_column_int(st, 2);
        p->channels = sqlite3_column_int(st, 3);
        p->background = sqlite3_column_int(st, 4);
        p->sent = sqlite3_column_int(st, 5);
        p->rate_mbps = col_real(st, 6);
        p->cases = sqlite3_column_int(st, 7);
        p->e2e_ms = col_real(st, 8);
        p->head_ms = col_real(st, 9);
        p->encode_ms = col_real(st, 10);
        p->transfer_ms = col_real(st, 11);
        p->queue_ms = col_real(st, 12);
        p->decode_ms = col_real(st, 13);
        p->tail_ms = col_real(st, 14);
        p->energy_mj = col_real(st, 15);
        p->power_mw = col_real(st, 16);
        if (dd->n_devices == 0 ||
            strcmp(dd->devices[dd->n_devices - 1], p->device) != 0) {
            g = grow(dd->devices, dd->n_devices, &dcap, sizeof(*dd->devices));
            if (!g) {
                rc = BF_ENOMEM;
                break;
            }
            dd->devices = g;
            memcpy(dd->devices[dd->n_devices++], p->device, NAME_SIZE);
        }
        if (p->sent && !isnan(p->rate_mbps)) {
            size_t k;

            for (k = 0; k < dd->n_rates; k++)
                if (same_rate(dd->rates[k], p->rate_mbps))
                    break;
            if (k == dd->n_rates) {
                g = grow(dd->rates, dd->n_rates, &rcap, sizeof(*dd->rates));
                if (!g) {
                    rc = BF_ENOMEM;
                    break;
                }
                dd->rates = g;
                dd->rates[dd->n_rates++] = p->rate_mbps;
            }
        }
        rc = 1;
    }
    sqlite3_finalize(st);
    if (rc < 0)
        return rc;
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

/* The device rows' methods and the links, for the captions. */
static int dev_put_methods(struct plot *pl, struct figure *f, const char *ids,
                           const char *model, const char *column)
{
    return put_list(pl, f, &f->caption, "; ", model, NULL,
                    "SELECT DISTINCT d.device || ' [' || d.%s || ']'" DEV_FROM
                    " ORDER BY 1",
                    column, ids);
}

static int dev_put_host_methods(struct plot *pl, struct figure *f,
                                const char *ids, const char *model)
{
    size_t n = 0;
    int rc = put_list(pl, f, &f->caption, ", ", model, &n,
                      "SELECT DISTINCT a.method FROM aggregates a JOIN "
                      "cases c ON c.id = a.case_id WHERE c.run_id IN (%s) "
                      "AND c.model = ?1 AND c.status = 'finished' AND "
                      "a.metric IN ('encode', 'transfer', 'server_queue', "
                      "'server_decode', 'tail') AND EXISTS (SELECT 1 FROM "
                      "device_results d WHERE d.case_id = c.id) ORDER BY 1",
                      ids);

    if (rc == 0 && n == 0)
        put(f, &f->caption, "not recorded");
    return rc;
}

static int dev_put_links(struct plot *pl, struct figure *f, const char *ids,
                         const char *model)
{
    char links[8][256];
    size_t n = 0;
    sqlite3_stmt *st;
    int rc;

    rc = prepare(pl, &st, "reading links",
                 "SELECT DISTINCT c.link" DEV_FROM
                 " AND c.link IS NOT NULL ORDER BY 1",
                 ids);
    if (rc)
        return rc;
    sqlite3_bind_text(st, 1, model, -1, SQLITE_STATIC);
    while ((rc = step(pl, st, "reading links")) == 1) {
        const unsigned char *s = sqlite3_column_text(st, 0);
        char link[256];
        size_t k;

        snprintf(link, sizeof(link), "%s", s ? (const char *)s : "");
        strip_rate(link);
        for (k = 0; k < n; k++)
            if (strcmp(links[k], link) == 0)
                break;
        if (k == n && n < sizeof(links) / sizeof(links[0])) {
            memcpy(links[n], link, sizeof(link));
            put(f, &f->caption, "%s%s", n ? "; " : "", link);
            n++;
        }
    }
    sqlite3_finalize(st);
    if (rc == 0 && n == 0)
        put(f, &f->caption, "no link");
    return rc < 0 ? rc : 0;
}

#define LAT_COLUMNS "rate_mbps\te2e_ms\tstyle\tpanel\tdevice\tcases"

/* Figure 2: end-to-end latency against the uplink rate. */
static int fig_latency(struct plot *pl, const struct runs *r, const char *model,
                       const struct dev_data *dd)
{
    const char *ids = bf_buf_str(&r->ids);
    struct figure f;
    int blocks = 0, rc = 0;
    size_t dropped = 0;

    if (dd->n_rates == 0) {
        bf_log_info("plot: latency figure of %s skipped: no case with an "
                    "emulated uplink rate in %s",
                    model, bf_buf_str(&r->text));
        return 0;
    }
    figure_init(&f, "latency", model,
                dd->n_devices > 2 ? 60 + 420 * (int)dd->n_devices : 960, 600);
    for (size_t d = 0; d < dd->n_devices; d++) {
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
                put(&f, &f.data, "%.4f\t%d\t%zu\t%s\t%d\n", p->e2e_ms, s->style,
                    d + 1, dd->devices[d], p->cases);
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
    put(&f, &f.caption,
        "Median end-to-end latency per request (ms, log scale) against the "
        "uplink rate (Mbit/s, log scale), link: ");
    rc = dev_put_links(pl, &f, ids, model);
    if (rc == 0) {
        put(&f, &f.caption, ". Device compute time: ");
        rc = dev_put_methods(pl, &f, ids, model, "latency_method");
    }
    if (rc == 0) {
        put(&f, &f.caption,
            ". Encoding, transfer (real TCP) and edge server time: ");
        rc = dev_put_host_methods(pl, &f, ids, model);
    }
    put(&f, &f.caption, ". Sending nothing, drawn at every rate: ");
    put_unsent(&f, dd);
    put(&f, &f.caption, ". Results DB %s.", bf_buf_str(&r->text));
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
    const char *ids = bf_buf_str(&r->ids);
    struct figure f;
    double rate;
    int rc, rows = 0;

    if (dev_rate(pl, dd, "energy", model, &rate))
        return 0;
    figure_init(&f, "energy", model, 1000, 600);
    for (size_t b = 0; b < 2; b++) {
        put(&f, &f.data, "%s%s", b ? "\n\n" : "", blocks_of[b]);
        for (size_t d = 0; d < dd->n_devices; d++)
            put(&f, &f.data, "\t%s", dd->devices[d]);
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
    rc = dev_put_methods(pl, &f, ids, model, "power_method");
    if (rc == 0) {
        put(&f, &f.caption, ". Device compute time: ");
        rc = dev_put_methods(pl, &f, ids, model, "latency_method");
    }
    if (rc == 0) {
        put(&f, &f.caption, "; encoding and network time: ");
        rc = dev_put_host_methods(pl, &f, ids, model);
    }
    put(&f, &f.caption, ". Results DB %s.", bf_buf_str(&r->text));
    if (rc == 0 && rows > 0)
        rc = emit(pl, &f);
    figure_free(&f);
    return rc;
}

#define BRK_COLUMNS "head\tencode\ttransfer\tqueue\tdecode\ttail\te2e\tdevice"

static double or_zero(double v)
{
    return isnan(v) ? 0.0 : v;
}

/* Figure 4: latency stages as stacked bars, a panel per device. */
static int fig_breakdown(struct plot *pl, const struct runs *r,
                         const char *model, const struct dev_data *dd)
{
    const char *ids = bf_buf_str(&r->ids);
    struct figure f;
    double rate;
    int blocks = 0, rc;

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
            put(&f, &f.data, "\t%s\n", dd->devices[d]);
        }
    }
    put(&f, &f.title, "%s: latency breakdown per configuration", model);
    put(&f, &f.caption, "Latency stages per request (ms), ");
    put_rate(&f, rate);
    put(&f, &f.caption, ". head: device compute time, ");
    rc = dev_put_methods(pl, &f, ids, model, "latency_method");
    if (rc == 0) {
        put(&f, &f.caption,
            ". encode and transfer (uplink, propagation and reply): medians "
            "over the case's requests; edge queue, decode and tail: p50 of "
            "their own samples; all ");
        rc = dev_put_host_methods(pl, &f, ids, model);
    }
    put(&f, &f.caption,
        ". Medians do not add up exactly: the dot is the median end-to-end "
        "latency. Results DB %s.",
        bf_buf_str(&r->text));
    if (rc == 0 && blocks > 0)
        rc = emit(pl, &f);
    figure_free(&f);
    return rc;
}

/* Figure 5: what runs on the device */

struct head_row {
    char config[NAME_SIZE];
    int channels;
    int sent;
    double params, macs;
};

static int fig_head(struct plot *pl, const struct runs *r, const char *model)
{
    const char *ids = bf_buf_str(&r->ids);
    struct head_row *rows = NULL;
    size_t n = 0, cap = 0, shown = 0, omitted = 0;
    struct bf_buf omit;
    struct figure f;
    sqlite3_stmt *st;
    int rc;

    figure_init(&f, "head", model, 900, 600);
    bf_buf_init(&omit);
    rc = prepare(pl, &st, "reading head sizes",
                 "SELECT c.config, coalesce(c.bottleneck_channels, 0) AS ch, "
                 "max(c.link IS NOT NULL), avg(CASE WHEN c.link IS NULL THEN "
                 "c.params ELSE c.head_params END), avg(CASE WHEN c.link IS "
                 "NULL THEN c.macs ELSE c.head_macs END) FROM cases c WHERE "
                 "c.run_id IN (%s) AND c.model = ?1 AND c.status = "
                 "'finished' AND EXISTS (SELECT 1 FROM device_results d "
                 "WHERE d.case_id = c.id) GROUP BY c.config, ch ORDER "
                 "BY " CONFIG_RANK_SQL ", c.config, ch",
                 ids);
    if (rc)
        goto out;
    sqlite3_bind_text(st, 1, model, -1, SQLITE_STATIC);
    while ((rc = step(pl, st, "reading head sizes")) == 1) {
        void *g;

        g = grow(rows, n, &cap, sizeof(*rows));
        if (!g) {
            rc = BF_ENOMEM;
            break;
        }
        rows = g;
        col_name(st, 0, rows[n].config);
        rows[n].channels = sqlite3_column_int(st, 1);
        rows[n].sent = sqlite3_column_int(st, 2);
        rows[n].params = col_real(st, 3);
        rows[n].macs = col_real(st, 4);
        n++;
        rc = 1;
    }
    sqlite3_finalize(st);
    if (rc < 0)
        goto out;
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
    free(rows);
    bf_buf_free(&omit);
    figure_free(&f);
    return rc;
}

/* Rendering */

/* Every given run must exist. */
static int check_runs(struct plot *pl)
{
    sqlite3_stmt *st;
    int rc = prepare(pl, &st, "reading runs",
                     "SELECT count(*) FROM runs WHERE id = ?1");

    if (rc)
        return rc;
    for (size_t i = 0; rc == 0 && i < pl->p->n_run_ids; i++) {
        sqlite3_bind_int64(st, 1, pl->p->run_ids[i]);
        rc = step(pl, st, "reading runs");
        if (rc == 1)
            rc = sqlite3_column_int64(st, 0) > 0
                     ? 0
                     : bf_err_set(BF_EINVAL, "%s: no run %lld", pl->db_path,
                                  (long long)pl->p->run_ids[i]);
        sqlite3_reset(st);
    }
    sqlite3_finalize(st);
    return rc;
}

/* Every run: where the models come from when no runs are given. */
#define ALL_RUNS_SQL "SELECT id FROM runs"

/*
 * The models of a figure kind (models_sql, the run list as %s), from the
 * given runs or from all. Returns 0 with *n = 0 when there is none.
 */
static int kind_models(struct plot *pl, const char *models_sql,
                       char (**models)[NAME_SIZE], size_t *n)
{
    struct bf_buf ids;
    int rc = 0;

    bf_buf_init(&ids);
    for (size_t i = 0; i < pl->p->n_run_ids; i++)
        putf(&rc, &ids, "%s%lld", i ? "," : "", (long long)pl->p->run_ids[i]);
    if (rc == 0)
        rc = list_models(pl, models_sql,
                         ids.len ? bf_buf_str(&ids) : ALL_RUNS_SQL, models, n);
    bf_buf_free(&ids);
    return rc;
}

static int render_accuracy(struct plot *pl)
{
    char(*models)[NAME_SIZE] = NULL;
    size_t n = 0;
    int rc = kind_models(pl, ACC_MODELS_SQL, &models, &n);

    if (rc == 0 && n == 0)
        bf_log_info("plot: accuracy figures skipped: no accuracy rows%s",
                    pl->p->n_run_ids ? " in the runs given" : "");
    for (size_t i = 0; rc == 0 && i < n; i++) {
        struct runs r;

        runs_init(&r);
        rc = select_runs(pl, ACC_NEWEST_SQL, models[i], &r);
        if (rc == 0 && r.ids.len > 0)
            rc = fig_accuracy(pl, &r, models[i]);
        runs_free(&r);
    }
    free(models);
    return rc;
}

static int render_devices(struct plot *pl)
{
    char(*models)[NAME_SIZE] = NULL;
    size_t n = 0;
    int rc = kind_models(pl, DEV_MODELS_SQL, &models, &n);

    if (rc == 0 && n == 0)
        bf_log_info("plot: latency, energy, breakdown and head figures "
                    "skipped: no device rows%s",
                    pl->p->n_run_ids ? " in the runs given" : "");
    for (size_t i = 0; rc == 0 && i < n; i++) {
        struct dev_data dd;
        struct runs r;

        runs_init(&r);
        rc = select_runs(pl, DEV_NEWEST_SQL, models[i], &r);
        if (rc || r.ids.len == 0) {
            runs_free(&r);
            continue;
        }
        rc = dev_load(pl, bf_buf_str(&r.ids), models[i], &dd);
        if (rc == 0)
            rc = fig_latency(pl, &r, models[i], &dd);
        if (rc == 0)
            rc = fig_energy(pl, &r, models[i], &dd);
        if (rc == 0)
            rc = fig_breakdown(pl, &r, models[i], &dd);
        if (rc == 0)
            rc = fig_head(pl, &r, models[i]);
        dev_data_free(&dd);
        runs_free(&r);
    }
    free(models);
    return rc;
}

int bf_plot_render(const char *db_path, const struct bf_plot_params *params,
                   FILE *out)
{
    struct plot pl = {.p = params, .db_path = db_path, .out = out};
    struct bf_store *store = NULL;
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
    rc = bf_store_open_readonly(db_path, &store);
    if (rc)
        return rc;
    pl.db = bf_store_db(store);
    rc = check_runs(&pl);
    if (rc == 0)
        rc = render_accuracy(&pl);
    if (rc == 0)
        rc = render_devices(&pl);
    if (rc == 0 && pl.written == 0)
        rc = bf_err_set(BF_ENOENT,
                        "%s: nothing to plot (no accuracy rows "
                        "and no device rows%s)",
                        db_path, params->n_run_ids ? " in the runs given" : "");
    bf_store_close(store);
    return rc;
}
