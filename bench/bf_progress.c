/* bf_progress: work left in a run and its estimated time (bf_progress.h). */
#include "bf_progress.h"

#include <math.h>
#include <stdio.h>

void bf_progress_init(struct bf_progress *p, double work_total)
{
    p->work_total = work_total > 0 ? work_total : 0;
    p->work_passed = 0;
    p->work_timed = 0;
    p->ns_timed = 0;
}

void bf_progress_skip(struct bf_progress *p, double work)
{
    p->work_passed += work > 0 ? work : 0;
}

void bf_progress_done(struct bf_progress *p, double work, int64_t ns)
{
    if (work <= 0)
        return;
    p->work_passed += work;
    p->work_timed += work;
    p->ns_timed += ns > 0 ? ns : 0;
}

double bf_progress_left_s(const struct bf_progress *p)
{
    double left = p->work_total - p->work_passed;

    if (p->work_timed <= 0 || p->ns_timed <= 0)
        return -1;
    return (left > 0 ? left : 0) * ((double)p->ns_timed * 1e-9) / p->work_timed;
}

void bf_progress_format(double seconds, char *out, size_t out_size)
{
    long s;

    if (!(seconds >= 0)) {
        snprintf(out, out_size, "?");
        return;
    }
    s = lround(seconds);
    if (s < 60)
        snprintf(out, out_size, "%ld s", s);
    else if (s < 3600)
        snprintf(out, out_size, "%ld min %02ld s", s / 60, s % 60);
    else
        snprintf(out, out_size, "%ld h %02ld min", s / 3600, (s % 3600) / 60);
}
