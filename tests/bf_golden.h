/*
 * Golden-file helpers shared by the cmocka tests: read a whole file, and
 * compare a text with tests/fixtures/<dir>/<name> (BF_UPDATE_GOLDEN=1
 * rewrites the file first). Include after <cmocka.h>; needs
 * BF_FIXTURES_DIR.
 */
#ifndef BF_GOLDEN_H
#define BF_GOLDEN_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The file's bytes, NUL-terminated (caller frees), or NULL when absent. */
static inline char *golden_read_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    char *text;
    long size;

    if (!f)
        return NULL;
    assert_int_equal(fseek(f, 0, SEEK_END), 0);
    size = ftell(f);
    assert_true(size >= 0);
    assert_int_equal(fseek(f, 0, SEEK_SET), 0);
    text = malloc((size_t)size + 1);
    assert_non_null(text);
    assert_int_equal(fread(text, 1, (size_t)size, f), (size_t)size);
    text[size] = '\0';
    fclose(f);
    return text;
}

/* Fail, showing both texts, unless actual equals the golden file. */
static inline void golden_assert(const char *actual, const char *dir,
                                 const char *name)
{
    char path[512];
    char *want;

    snprintf(path, sizeof(path), "%s/%s/%s", BF_FIXTURES_DIR, dir, name);
    if (getenv("BF_UPDATE_GOLDEN")) {
        FILE *f = fopen(path, "wb");

        assert_non_null(f);
        assert_true(fputs(actual, f) >= 0);
        assert_int_equal(fclose(f), 0);
    }
    want = golden_read_file(path);
    if (!want)
        fail_msg("golden file %s is missing", path);
    if (strcmp(actual, want) != 0) {
        fprintf(stderr, "--- expected %s\n%s--- actual\n%s", path, want,
                actual);
        fail_msg("output differs from %s", path);
    }
    free(want);
}

#endif /* BF_GOLDEN_H */
