/* Tests of bf_hash: FIPS 180-4 / NIST vectors, files, errors. */
#define _POSIX_C_SOURCE 200809L
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "bf_artifact.h"
#include "bf_err.h"
#include "bf_hash.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void test_hash_empty(void **state)
{
    char hex[BF_HASH_HEX_SIZE];

    (void)state;
    bf_hash_buffer("", 0, hex);
    assert_string_equal(
        hex,
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

static void test_hash_abc(void **state)
{
    char hex[BF_HASH_HEX_SIZE];

    (void)state;
    bf_hash_buffer("abc", 3, hex);
    assert_string_equal(
        hex,
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

static void test_hash_448_bits(void **state)
{
    const char *msg =
        "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
    char hex[BF_HASH_HEX_SIZE];

    (void)state;
    assert_int_equal(strlen(msg), 56);
    bf_hash_buffer(msg, strlen(msg), hex);
    assert_string_equal(
        hex,
        "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
}

static void test_hash_896_bits(void **state)
{
    const char *msg =
        "abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmn"
        "hijklmnoijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu";
    char hex[BF_HASH_HEX_SIZE];

    (void)state;
    bf_hash_buffer(msg, strlen(msg), hex);
    assert_string_equal(
        hex,
        "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1");
}

static void test_hash_million_a(void **state)
{
    const char *expect =
        "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0";
    size_t n = 1000000;
    char *msg = malloc(n);
    struct bf_sha256 ctx;
    char hex[BF_HASH_HEX_SIZE];
    size_t off;

    (void)state;
    assert_non_null(msg);
    memset(msg, 'a', n);
    bf_hash_buffer(msg, n, hex);
    assert_string_equal(hex, expect);

    /* The same bytes fed in uneven pieces must give the same digest. */
    bf_sha256_init(&ctx);
    for (off = 0; off < n;) {
        size_t take = 1 + off % 97;

        if (take > n - off)
            take = n - off;
        bf_sha256_update(&ctx, msg + off, take);
        off += take;
    }
    bf_sha256_final(&ctx, hex);
    assert_string_equal(hex, expect);
    free(msg);
}

/* Lengths around the padding boundary (55, 56, 63, 64, 65 bytes) must agree
 * between one-shot and byte-at-a-time hashing. */
static void test_hash_boundaries(void **state)
{
    static const size_t lens[] = {55, 56, 57, 63, 64, 65, 119, 120, 128};
    unsigned char buf[128];
    size_t i, j;

    (void)state;
    for (i = 0; i < sizeof(buf); i++)
        buf[i] = (unsigned char)(i * 7 + 3);
    for (i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
        char one[BF_HASH_HEX_SIZE];
        char bytewise[BF_HASH_HEX_SIZE];
        struct bf_sha256 ctx;

        bf_hash_buffer(buf, lens[i], one);
        bf_sha256_init(&ctx);
        for (j = 0; j < lens[i]; j++)
            bf_sha256_update(&ctx, buf + j, 1);
        bf_sha256_final(&ctx, bytewise);
        assert_string_equal(one, bytewise);
    }
}

static void test_hash_file_matches_buffer(void **state)
{
    char dir[] = "/tmp/bf_test_hash_XXXXXX";
    char path[256];
    char from_file[BF_HASH_HEX_SIZE];
    char from_buf[BF_HASH_HEX_SIZE];
    /* Larger than the 1 MiB read chunk so that several reads happen. */
    size_t n = 3 * 1024 * 1024 + 17;
    unsigned char *data = malloc(n);
    FILE *f;
    size_t i;

    (void)state;
    assert_non_null(data);
    for (i = 0; i < n; i++)
        data[i] = (unsigned char)((i * 2654435761u) >> 13);
    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof(path), "%s/data.bin", dir);
    f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(data, 1, n, f), n);
    assert_int_equal(fclose(f), 0);

    assert_int_equal(bf_hash_file(path, from_file), 0);
    bf_hash_buffer(data, n, from_buf);
    assert_string_equal(from_file, from_buf);

    /* An empty file hashes like an empty buffer. */
    f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fclose(f), 0);
    assert_int_equal(bf_hash_file(path, from_file), 0);
    assert_string_equal(
        from_file,
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");

    assert_int_equal(unlink(path), 0);
    assert_int_equal(rmdir(dir), 0);
    free(data);
}

static void test_hash_missing_file(void **state)
{
    const char *path = "/nonexistent/bf_test_hash/missing.bin";
    char hex[BF_HASH_HEX_SIZE];

    (void)state;
    bf_err_clear();
    assert_int_equal(bf_hash_file(path, hex), BF_ENOENT);
    assert_non_null(strstr(bf_last_error(), path));
    assert_non_null(strstr(bf_last_error(), "No such file"));
}

static void test_hash_directory_is_io_error(void **state)
{
    char hex[BF_HASH_HEX_SIZE];

    (void)state;
    bf_err_clear();
    assert_int_equal(bf_hash_file("/tmp", hex), BF_EIO);
    assert_non_null(strstr(bf_last_error(), "/tmp"));
}

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "wb");

    assert_non_null(f);
    assert_int_equal(fputs(text, f) >= 0, 1);
    assert_int_equal(fclose(f), 0);
}

/*
 * Artifacts are named after their contents: two files with other bytes
 * never share a name, equal bytes land on one; a file whose bytes no
 * longer match its name is refused by bf_artifact_verify, other names
 * pass unchecked.
 */
static void test_artifact_content_addressed(void **state)
{
    char dir[] = "/tmp/bf_test_artifact.XXXXXX";
    char tmp[128], a[256], b[256], c[256], sha[BF_HASH_HEX_SIZE], want[80];
    int64_t bytes = 0;

    (void)state;
    assert_non_null(mkdtemp(dir));
    snprintf(tmp, sizeof(tmp), "%s/.part", dir);
    write_file(tmp, "weights one");
    assert_int_equal(bf_artifact_commit(tmp, dir, "student", "resnet_mini", a,
                                        sizeof(a), sha, &bytes),
                     0);
    assert_int_equal(bytes, 11);
    snprintf(want, sizeof(want), "/student-resnet_mini-%.16s.bfw", sha);
    assert_non_null(strstr(a, want));
    assert_int_equal(access(tmp, F_OK), -1); /* renamed, not copied */
    write_file(tmp, "weights two");
    assert_int_equal(bf_artifact_commit(tmp, dir, "student", "resnet_mini", b,
                                        sizeof(b), sha, &bytes),
                     0);
    assert_string_not_equal(a, b);
    write_file(tmp, "weights one");
    assert_int_equal(bf_artifact_commit(tmp, dir, "student", "resnet_mini", c,
                                        sizeof(c), sha, &bytes),
                     0);
    assert_string_equal(a, c);
    assert_int_equal(bf_artifact_verify(a), 0);
    assert_int_equal(bf_artifact_verify(b), 0);
    /* Overwritten in place: refused, naming the file. */
    write_file(b, "weights one");
    assert_int_equal(bf_artifact_verify(b), BF_EPARSE);
    assert_non_null(strstr(bf_last_error(), b));
    assert_non_null(strstr(bf_last_error(), "changed since it was written"));
    /* Names without a digest are not checked, nor cached teachers (named
     * after their recipe: usable as `weights` as they are). */
    snprintf(c, sizeof(c), "%s/teacher.bfw", dir);
    write_file(c, "anything");
    assert_int_equal(bf_artifact_verify(c), 0);
    unlink(c);
    snprintf(c, sizeof(c), "%s/teacher-resnet_mini-a594b02b2868d3c2.bfw", dir);
    write_file(c, "anything");
    assert_int_equal(bf_artifact_verify(c), 0);
    assert_int_equal(unlink(a), 0);
    assert_int_equal(unlink(b), 0);
    assert_int_equal(unlink(c), 0);
    assert_int_equal(rmdir(dir), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hash_empty),
        cmocka_unit_test(test_hash_abc),
        cmocka_unit_test(test_hash_448_bits),
        cmocka_unit_test(test_hash_896_bits),
        cmocka_unit_test(test_hash_million_a),
        cmocka_unit_test(test_hash_boundaries),
        cmocka_unit_test(test_hash_file_matches_buffer),
        cmocka_unit_test(test_hash_missing_file),
        cmocka_unit_test(test_hash_directory_is_io_error),
        cmocka_unit_test(test_artifact_content_addressed),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
