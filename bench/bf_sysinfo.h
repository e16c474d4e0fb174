/*
 * bf_sysinfo: facts about the host and the build for run provenance and for
 * measurement warnings (debug build, CPU frequency scaling governor).
 * Every field is filled; what cannot be found reads "unknown" (or -1 for
 * git_dirty).
 */
#ifndef BF_SYSINFO_H
#define BF_SYSINFO_H

struct bf_sysinfo {
    char host[256];
    char cpu_model[256];
    int cores_online;
    char git_commit[64]; /* of the source tree bfbench was built from */
    int git_dirty;       /* 1 dirty, 0 clean, -1 unknown */
    char governor[64];   /* cpufreq governor of cpu0, "unknown" if none */
    char build_type[32]; /* CMAKE_BUILD_TYPE baked in at compile time */
    char version[32];    /* bfbench version */
};

/*
 * Fill info. source_dir is the git work tree to describe (the CLI passes the
 * compiled-in source directory); git is run with a bounded time. Never fails.
 */
void bf_sysinfo_collect(const char *source_dir, struct bf_sysinfo *info);

/*
 * Write warnings that make timings less trustworthy (debug build, a cpufreq
 * governor other than "performance") through bf_log_warn. Returns how many.
 */
int bf_sysinfo_warn(const struct bf_sysinfo *info);

#endif /* BF_SYSINFO_H */
