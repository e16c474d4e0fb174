/* bfbench keys: every scenario key with its type, unit, default and range. */
#define _POSIX_C_SOURCE 200809L
#include "bf_cli.h"

#include "bf_scenario.h"

#include <stdio.h>
#include <string.h>

static void keys_help(void)
{
    printf("usage: bfbench keys\n\nPrint every scenario key with the "
           "task it applies to (inference,\ntrain or any), its type, "
           "unit, default, range and help.\n");
}

/* No options but --help: getopt is not needed. */
int bf_cmd_keys(int argc, char **argv)
{
    if (argc > 1 &&
        (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
        keys_help();
        return EXIT_OK;
    }
    if (argc > 1)
        return usage_error("keys", "unexpected argument '%s'", argv[1]);
    bf_scenario_keys_print(stdout);
    return EXIT_OK;
}
