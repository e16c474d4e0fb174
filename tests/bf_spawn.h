/*
 * Helpers of the tests that run the bfbench binary (test_cli,
 * test_compare): a scratch directory, bfbench started with stdin from
 * /dev/null and its stdout and stderr in files there, and those texts read
 * back for the assertions. The state is per test binary: include this in
 * one file, after <cmocka.h>; needs BF_BFBENCH_PATH.
 */
#ifndef BF_SPAWN_H
#define BF_SPAWN_H

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

static char tmpdir[256];       /* the scratch directory */
static char out_text[1 << 16]; /* stdout of the last RUN */
static char err_text[1 << 16]; /* stderr of the last RUN */

/* A fresh scratch directory /tmp/<prefix>XXXXXX. 0 or -1. */
static inline int tmpdir_make(const char *prefix)
{
    snprintf(tmpdir, sizeof(tmpdir), "/tmp/%sXXXXXX", prefix);
    return mkdtemp(tmpdir) ? 0 : -1;
}

/* Remove the scratch directory, unless BF_KEEP_TMP is set. 0 or -1. */
static inline int tmpdir_remove(void)
{
    char cmd[300];

    if (getenv("BF_KEEP_TMP"))
        return 0;
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
    return system(cmd) == 0 ? 0 : -1;
}

static inline void tmp_path(char *out, size_t size, const char *name)
{
    snprintf(out, size, "%s/%s", tmpdir, name);
}

/* The file's first size - 1 bytes, NUL-terminated; "" when absent. */
static inline void slurp(const char *path, char *buf, size_t size)
{
    FILE *f = fopen(path, "r");
    size_t n = 0;

    buf[0] = '\0';
    if (!f)
        return;
    n = fread(buf, 1, size - 1, f);
    buf[n] = '\0';
    fclose(f);
}

/* Start bfbench with args (NULL-terminated, at most 30); stdout and
 * stderr to the files <tmpdir>/<tag>out and <tag>err. */
static inline pid_t spawn_tagged(const char *tag, const char *const *args)
{
    char out[512], err[512];
    const char *argv[32];
    pid_t pid;
    int i = 0;

    snprintf(out, sizeof(out), "%s/%sout", tmpdir, tag);
    snprintf(err, sizeof(err), "%s/%serr", tmpdir, tag);
    argv[i++] = BF_BFBENCH_PATH;
    for (; args[i - 1] && i < 31; i++)
        argv[i] = args[i - 1];
    argv[i] = NULL;
    pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        int fo = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        int fe = open(err, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        int fi = open("/dev/null", O_RDONLY);

        dup2(fo, 1);
        dup2(fe, 2);
        dup2(fi, 0);
        execv(BF_BFBENCH_PATH, (char *const *)argv);
        _exit(127);
    }
    return pid;
}

static inline pid_t spawn(const char *const *args)
{
    return spawn_tagged("std", args);
}

/* Wait for a process started by spawn_tagged(tag, ...); read its stdout
 * and stderr into out_text and err_text. Its exit code, or 128 + the
 * signal that ended it. */
static inline int wait_tagged(pid_t pid, const char *tag)
{
    char out[512], err[512];
    int status = 0;

    assert_int_equal(waitpid(pid, &status, 0), pid);
    snprintf(out, sizeof(out), "%s/%sout", tmpdir, tag);
    snprintf(err, sizeof(err), "%s/%serr", tmpdir, tag);
    slurp(out, out_text, sizeof(out_text));
    slurp(err, err_text, sizeof(err_text));
    if (WIFSIGNALED(status))
        return 128 + WTERMSIG(status);
    return WEXITSTATUS(status);
}

/* wait_tagged for a process started by spawn(). */
static inline int wait_exit(pid_t pid)
{
    return wait_tagged(pid, "std");
}

/* Run bfbench with the arguments and wait: RUN("report", "--db", db). */
#define RUN(...) wait_exit(spawn((const char *const[]){__VA_ARGS__, NULL}))

/* Fail, showing both outputs, unless the exit code is want. */
static inline void expect(int code, int want, const char *where)
{
    if (code != want)
        fail_msg("%s: exit %d, want %d\nstdout:\n%s\nstderr:\n%s", where, code,
                 want, out_text, err_text);
}

#endif /* BF_SPAWN_H */
