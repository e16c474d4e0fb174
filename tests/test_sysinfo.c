/* Tests of bf_sysinfo: host facts, git provenance, measurement warnings. */
#define _POSIX_C_SOURCE 200809L
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "bf_log.h"
#include "bf_sysinfo.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef BF_SOURCE_DIR
#define BF_SOURCE_DIR "/work/main"
#endif

/* Run argv (no shell) in dir with output discarded; returns the exit status
 * or -1. */
static int run_in(const char *dir, const char *const argv[])
{
    int status;
    pid_t pid = fork();

    if (pid < 0)
        return -1;
    if (pid == 0) {
        int null_fd = open("/dev/null", O_RDWR);

        if (null_fd >= 0) {
            dup2(null_fd, STDOUT_FILENO);
            dup2(null_fd, STDERR_FILENO);
        }
        if (chdir(dir) != 0)
            _exit(126);
        execvp(argv[0], (char *const *)argv);
        _exit(127);
    }
    if (waitpid(pid, &status, 0) < 0 || !WIFEXITED(status))
        return -1;
    return WEXITSTATUS(status);
}

static int have_git(void)
{
    static const char *const argv[] = {"git", "--version", NULL};

    return run_in("/", argv) == 0;
}

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");

    assert_non_null(f);
    assert_true(fputs(text, f) >= 0);
    assert_int_equal(fclose(f), 0);
}

static void remove_tree(const char *dir)
{
    const char *const argv[] = {"rm", "-rf", "--", dir, NULL};

    assert_int_equal(run_in("/", argv), 0);
}

static int is_hex40(const char *s)
{
    size_t i;

    for (i = 0; s[i]; i++)
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
            return 0;
    return i == 40;
}

static void test_sysinfo_collect_sane(void **state)
{
    struct bf_sysinfo info;

    (void)state;
    bf_sysinfo_collect(BF_SOURCE_DIR, &info);
    assert_true(info.host[0] != '\0');
    assert_true(info.cpu_model[0] != '\0');
    assert_true(info.cores_online >= 1);
    assert_true(info.governor[0] != '\0');
    assert_true(info.build_type[0] != '\0');
    assert_string_equal(info.version, "0.1.0");
    /* The tree may have no commit yet; then the commit is unknown. */
    assert_true(strcmp(info.git_commit, "unknown") == 0 ||
                is_hex40(info.git_commit));
    assert_true(info.git_dirty >= -1 && info.git_dirty <= 1);
    if (is_hex40(info.git_commit))
        assert_true(info.git_dirty == 0 || info.git_dirty == 1);
}

static void test_sysinfo_non_git_dir(void **state)
{
    char dir[] = "/tmp/bf_test_sysinfo_XXXXXX";
    struct bf_sysinfo info;

    (void)state;
    assert_non_null(mkdtemp(dir));
    bf_sysinfo_collect(dir, &info);
    assert_string_equal(info.git_commit, "unknown");
    assert_int_equal(info.git_dirty, -1);
    assert_int_equal(rmdir(dir), 0);
}

static void test_sysinfo_missing_dir(void **state)
{
    struct bf_sysinfo info;

    (void)state;
    bf_sysinfo_collect("/nonexistent/bf_test_sysinfo", &info);
    assert_string_equal(info.git_commit, "unknown");
    assert_int_equal(info.git_dirty, -1);
    bf_sysinfo_collect(NULL, &info);
    assert_string_equal(info.git_commit, "unknown");
    assert_int_equal(info.git_dirty, -1);
}

/*
 * A real repository whose path holds a quote and shell syntax: the commit
 * is read, the dirty flag follows a tracked edit, and nothing the path
 * spells is executed.
 */
static void test_sysinfo_git_repo_clean_and_dirty(void **state)
{
    char base[] = "/tmp/bf_test_sysinfo_XXXXXX";
    char repo[256];
    char file[300];
    char pwned[64];
    char cwd[4096];
    struct bf_sysinfo info;
    struct stat st;

    (void)state;
    if (!have_git())
        skip();
    assert_non_null(mkdtemp(base));
    /* Were the path ever given to a shell, `touch` would run in the current
     * directory, which is base while collecting. */
    assert_non_null(getcwd(cwd, sizeof(cwd)));
    snprintf(pwned, sizeof(pwned), "%s/pwned", base);
    snprintf(repo, sizeof(repo), "%s/it's $(touch pwned)`touch pwned`", base);
    assert_int_equal(mkdir(repo, 0700), 0);
    snprintf(file, sizeof(file), "%s/a.txt", repo);
    write_file(file, "one\n");
    {
        const char *const init[] = {"git", "init", "-q", ".", NULL};
        const char *const add[] = {"git", "add", "a.txt", NULL};
        const char *const commit[] = {"git",
                                      "-c",
                                      "user.name=bf test",
                                      "-c",
                                      "user.email=bf@example.invalid",
                                      "-c",
                                      "commit.gpgsign=false",
                                      "commit",
                                      "-q",
                                      "-m",
                                      "first",
                                      NULL};

        assert_int_equal(run_in(repo, init), 0);
        assert_int_equal(run_in(repo, add), 0);
        assert_int_equal(run_in(repo, commit), 0);
    }

    assert_int_equal(chdir(base), 0);
    bf_sysinfo_collect(repo, &info);
    assert_true(is_hex40(info.git_commit));
    assert_int_equal(info.git_dirty, 0);

    /* An untracked file does not make the tree dirty; a tracked edit does. */
    snprintf(file, sizeof(file), "%s/untracked.txt", repo);
    write_file(file, "x\n");
    bf_sysinfo_collect(repo, &info);
    assert_int_equal(info.git_dirty, 0);
    snprintf(file, sizeof(file), "%s/a.txt", repo);
    write_file(file, "two\n");
    bf_sysinfo_collect(repo, &info);
    assert_true(is_hex40(info.git_commit));
    assert_int_equal(info.git_dirty, 1);

    assert_int_equal(chdir(cwd), 0);
    assert_int_not_equal(stat(pwned, &st), 0);
    remove_tree(base);
}

/* The platform text: sorted key=value lines, the kernel-selecting
 * environment as set, the torch lines merged in, no host or code
 * version. */
static void test_sysinfo_platform_fingerprint(void **state)
{
    struct bf_sysinfo info;
    struct bf_buf a, b;
    const char *p, *prev = NULL;
    size_t prev_len = 0;

    (void)state;
    bf_sysinfo_collect(NULL, &info);
    bf_buf_init(&a);
    bf_buf_init(&b);
    setenv("ATEN_CPU_CAPABILITY", "avx2", 1);
    unsetenv("ONEDNN_MAX_CPU_ISA");
    assert_int_equal(
        bf_sysinfo_platform(&info, "torch.version=1.13.0\nblas.core=Zen\n", &a),
        0);
    for (p = bf_buf_str(&a); *p;) {
        const char *nl = strchr(p, '\n');

        assert_non_null(nl); /* every line ends in a newline */
        assert_non_null(memchr(p, '=', (size_t)(nl - p)));
        if (prev)
            assert_true(strncmp(prev, p, prev_len) < 0 ||
                        (strncmp(prev, p, prev_len) == 0 &&
                         (size_t)(nl - p) > prev_len));
        prev = p;
        prev_len = (size_t)(nl - p);
        p = nl + 1;
    }
    assert_non_null(strstr(bf_buf_str(&a), "env.ATEN_CPU_CAPABILITY=avx2\n"));
    assert_non_null(strstr(bf_buf_str(&a), "env.ONEDNN_MAX_CPU_ISA=unset\n"));
    assert_non_null(strstr(bf_buf_str(&a), "blas.core=Zen\n"));
    assert_non_null(strstr(bf_buf_str(&a), "cpu.features="));
    assert_non_null(strstr(bf_buf_str(&a), "build.type="));
    assert_null(strstr(bf_buf_str(&a), "host="));
    assert_null(strstr(bf_buf_str(&a), "git"));
    /* Another kernel setting is another fingerprint. */
    setenv("ATEN_CPU_CAPABILITY", "default", 1);
    assert_int_equal(bf_sysinfo_platform(&info, "", &b), 0);
    assert_string_not_equal(bf_buf_str(&a), bf_buf_str(&b));
    unsetenv("ATEN_CPU_CAPABILITY");
    bf_buf_free(&a);
    bf_buf_free(&b);
}

static void test_sysinfo_warn(void **state)
{
    struct bf_sysinfo info;

    (void)state;
    bf_log_set_level(BF_LOG_ERROR); /* keep the test output quiet */
    memset(&info, 0, sizeof(info));
    snprintf(info.build_type, sizeof(info.build_type), "Release");
    snprintf(info.governor, sizeof(info.governor), "performance");
    assert_int_equal(bf_sysinfo_warn(&info), 0);
    snprintf(info.governor, sizeof(info.governor), "unknown");
    assert_int_equal(bf_sysinfo_warn(&info), 0);
    snprintf(info.governor, sizeof(info.governor), "powersave");
    assert_int_equal(bf_sysinfo_warn(&info), 1);
    snprintf(info.build_type, sizeof(info.build_type), "Debug");
    assert_int_equal(bf_sysinfo_warn(&info), 2);
    snprintf(info.governor, sizeof(info.governor), "unknown");
    assert_int_equal(bf_sysinfo_warn(&info), 1);
    bf_log_set_level(BF_LOG_INFO);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sysinfo_collect_sane),
        cmocka_unit_test(test_sysinfo_non_git_dir),
        cmocka_unit_test(test_sysinfo_missing_dir),
        cmocka_unit_test(test_sysinfo_git_repo_clean_and_dirty),
        cmocka_unit_test(test_sysinfo_platform_fingerprint),
        cmocka_unit_test(test_sysinfo_warn),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
