/*
 * bf_sysinfo: facts about the host and the build for run provenance and for
 * measurement warnings (debug build, CPU frequency scaling governor).
 * Every field is filled; what cannot be found reads "unknown" (or -1 for
 * git_dirty).
 */
#ifndef BF_SYSINFO_H
#define BF_SYSINFO_H

#include "bf_buf.h"

struct bf_sysinfo {
    char host[256];
    char cpu_model[256];
    int cores_online;
    char git_commit[64]; /* of the source tree bfbench was built from */
    int git_dirty;       /* 1 dirty, 0 clean, -1 unknown */
    char governor[64];   /* cpufreq governor of cpu0, "unknown" if none */
    char build_type[32]; /* CMAKE_BUILD_TYPE baked in at compile time */
    char version[32];    /* bfbench version */
    /* The CPU features that select vectorised kernels, space-separated in
     * a fixed order (x86: sse4_2 avx avx2 fma f16c avx512f ... amx_tile;
     * Arm: asimd sve ...); "none" when /proc/cpuinfo lists none. */
    char cpu_features[512];
    char machine[64];  /* uname's machine: x86_64, aarch64 */
    char compiler[96]; /* of bfbench's C code: "gcc 12.2.0" */
    char libc[32];     /* glibc version, "unknown" elsewhere */
};

/* The environment variables that change which kernels libtorch, oneDNN
 * and OpenBLAS use or how many threads they start, in the order the
 * platform text lists them. */
extern const char *const bf_sysinfo_kernel_env[];

/*
 * Fill info. source_dir is the git work tree to describe (the CLI passes the
 * compiled-in source directory); git is run with a bounded time. Never fails.
 */
void bf_sysinfo_collect(const char *source_dir, struct bf_sysinfo *info);

/*
 * The platform fingerprint of this process: what decides its
 * floating-point results bit for bit (CPU model and kernel-selecting
 * features, core count, machine, compiler and build type of the C code,
 * glibc, every variable of bf_sysinfo_kernel_env as set or "unset") plus
 * torch_info (bf_torch_platform_info's lines: the BLAS core, the oneDNN
 * ISA, ATen's CPU capability, library versions), as "key=value" lines
 * sorted by key, each ending in a newline, appended to out. Neither the
 * host name nor the code's version is part of it: two runs of different
 * code on the same platform have the same fingerprint, so that a
 * comparison of their numbers can be exact. Returns 0 or BF_ENOMEM.
 */
int bf_sysinfo_platform(const struct bf_sysinfo *info, const char *torch_info,
                        struct bf_buf *out);

/*
 * Write warnings that make timings less trustworthy (debug build, a cpufreq
 * governor other than "performance") through bf_log_warn. Returns how many.
 */
int bf_sysinfo_warn(const struct bf_sysinfo *info);

#endif /* BF_SYSINFO_H */
