/*
 * bf_probe: real power sensors, sampled in the background and read
 * through energy windows.
 *
 * A probe is one sensor, chosen by a spec string:
 *
 *   "auto"            try ina3221, hwmon, rapl in that order and open the
 *                     first present and readable one; none: no probe
 *   "none"            no probe
 *   "ina3221[:PATH]"  a Jetson's on-board INA3221, the total board input
 *                     rail alone (named POM_5V_IN or VDD_IN; rails are
 *                     never summed). Detected on L4T 32.x as
 *                     /sys/bus/i2c/drivers/ina3221x/{dev}/iio:device{N}/
 *                     in_power{K}_input (mW, rail named in rail_name_{K}),
 *                     and on newer L4T as /sys/bus/i2c/drivers/ina3221/
 *                     {dev}/hwmon/hwmon{N}/curr{K}_input (mA) times
 *                     in{K}_input (mV), rail named in in{K}_label. PATH
 *                     may name such a directory (the board input rail is
 *                     picked) or one value file (in_power{K}_input or
 *                     curr{K}_input: that rail, whatever its name).
 *   "hwmon[:PATH]"    /sys/class/hwmon/hwmon{N}/power{K}_input in
 *                     microwatts (an INA219/INA226 meter on a Raspberry
 *                     Pi); detection takes the first such file in version
 *                     order (hwmon2 before hwmon10) and names it after the
 *                     hwmon's `name` file. PATH is a power{K}_input file
 *                     or a hwmon directory.
 *   "rapl[:DIR]"      the Linux powercap counter /sys/class/powercap/
 *                     intel-rapl:{N}/energy_uj (microjoules, wrapping at
 *                     max_energy_range_uj in the same directory), named
 *                     after its `name` file ("package-0"); detection takes
 *                     the first package zone (intel-rapl:0), not the
 *                     sub-zones. DIR is a zone directory or its energy_uj.
 *                     Energy is differenced, not integrated; one wrap
 *                     between two samples is handled.
 *   "command:CMDLINE" an external reader run as /bin/sh -c CMDLINE in its
 *                     own process group, stdin /dev/null, stderr
 *                     inherited, printing one reading in watts per line
 *                     (it must flush each line); each line is timestamped
 *                     when it arrives. The command's exit means the
 *                     sensor vanished; it is not restarted.
 *
 * Detection looks under params->root (NULL: "/"), so that tests can point
 * it at a fixture tree; an explicit PATH is used as given.
 *
 * Sampling: a background thread reads sysfs sensors every 1 / rate_hz
 * seconds (opening the file for each reading, so that a file that
 * vanishes is noticed), timestamped with bf_clock_now_ns() at the middle
 * of the read; the command backend delivers readings at its own pace. The
 * thread keeps the cumulative energy of the trace: trapezoids between
 * power readings, counter differences between RAPL readings. The last
 * reading is held for at most 2 * max(sampling period, last gap between
 * readings) + 1 ms, so that a window ending between two readings is
 * covered. bf_probe_open takes the first reading (for RAPL, two readings
 * 10 ms apart, so that the power is known) before it returns, so a window
 * may begin at once.
 *
 * Windows: a struct bf_probe_window is held by the caller, so any number
 * may be open at once, nested or overlapping, from any threads. A window
 * costs no memory in the probe: it records the cumulative energy at its
 * begin and subtracts it from the cumulative energy at its end, both
 * interpolated between the readings around them. The begin edge is
 * interpolated exactly while the reading after it is still among the
 * last BF_PROBE_HISTORY_SAMPLES readings; for windows longer than that it
 * uses the value estimated at begin (the last reading held), whose error
 * is at most half a sampling period times the change of power there.
 *
 * Failures while running never stop or crash anything: a reading that
 * fails (file gone, unreadable, command exited) marks the probe lost from
 * that moment, the trace ends at the last good reading, and the probe
 * retries once per second (sysfs backends); a later good reading starts a
 * new trace segment. A window overlapping a lost period ends with status
 * BF_EIO, a note saying what happened and when, and energy over the valid
 * part only (covered_ms). A malformed reading (a bad line from the
 * command, a garbled sysfs value) is skipped and counted, and the window
 * says so in its note with status 0.
 *
 * All functions are thread-safe; a probe's state is guarded by its mutex.
 */
#ifndef BF_PROBE_H
#define BF_PROBE_H

#include <stddef.h>
#include <stdint.h>

#define BF_PROBE_DEFAULT_RATE_HZ 100.0
#define BF_PROBE_MIN_RATE_HZ 1.0
#define BF_PROBE_MAX_RATE_HZ 10000.0

/* Readings kept for exact interpolation at a window's begin edge. */
#define BF_PROBE_HISTORY_SAMPLES 4096

/* Size of a reading's note, terminating NUL included. */
#define BF_PROBE_NOTE_MAX 256

struct bf_probe;

struct bf_probe_params {
    const char *spec; /* as listed above; NULL is BF_EINVAL */
    const char *root; /* sysfs root for detection; NULL: "/" */
    double rate_hz;   /* sysfs sampling rate: 0 for BF_PROBE_DEFAULT_RATE_HZ,
                         else BF_PROBE_MIN_RATE_HZ .. BF_PROBE_MAX_RATE_HZ;
                         checked but unused by the command backend */
};

/*
 * An open window. Filled by bf_probe_window_begin and read by
 * bf_probe_window_end; the fields are private to bf_probe.
 */
struct bf_probe_window {
    const struct bf_probe *probe;
    int64_t t0_ns;       /* bf_clock_now_ns() at begin */
    double energy0_mj;   /* cumulative energy at t0, as estimated at begin */
    int64_t covered0_ns; /* cumulative covered time at t0, likewise */
    int64_t samples0;    /* readings taken at or before t0 */
    int64_t losses0;     /* losses recorded before begin */
    int64_t bad0;        /* malformed readings before begin */
    int lost0;           /* the probe was lost at begin */
};

/* What a window measured. */
struct bf_probe_reading {
    double energy_mj;    /* integrated over the covered part of the window */
    double avg_power_mw; /* energy_mj / covered_ms (the mean power over the
                            valid part; equal to energy / duration when the
                            window is fully covered); 0 when nothing is */
    double duration_ms;  /* the window */
    double covered_ms;   /* the part of the window with valid data */
    int64_t samples;     /* readings taken inside the window */
    int status;          /* 0, or BF_EIO when the sensor was lost during
                            (or since before) the window */
    char note[BF_PROBE_NOTE_MAX]; /* "" or what went wrong, e.g. "sensor
                            vanished 0.42 s into the window: /sys/...:
                            No such file or directory" */
};

/* Lifetime */

/*
 * Open the probe named by params->spec and start its sampling thread.
 * "none", or "auto" when no sensor is present and readable, leave *out
 * NULL and return 0 (the caller then models power and says so). "auto"
 * logs a warning for each sensor present but unreadable (RAPL is root
 * only on most kernels) and tries the next. Errors, *out then NULL:
 * BF_EINVAL for a NULL argument, an unknown backend or malformed spec, or
 * a rate out of range, naming the spec; for an explicit backend,
 * BF_ENOENT when the sensor is absent (naming the path or the patterns
 * searched), BF_EIO when it is unreadable or when a command ends before
 * its first valid reading, BF_EPARSE when its first reading is malformed
 * (naming the path), BF_ETIMEOUT when a command prints no valid reading
 * within 5 s, BF_ERANGE for a path too long, BF_ENOMEM. On success the
 * caller owns *out; free it with bf_probe_close.
 */
int bf_probe_open(const struct bf_probe_params *params, struct bf_probe **out);

/*
 * Stop and join the sampling thread, end the command (SIGTERM to its
 * process group, SIGKILL after 1 s) and reap it, and free probe. Accepts
 * NULL. Windows still open must not be ended afterwards.
 */
void bf_probe_close(struct bf_probe *probe);

/*
 * What the probe measures, e.g. "ina3221 POM_5V_IN
 * /sys/bus/i2c/drivers/ina3221x/6-0040/iio:device0/in_power0_input @100
 * Hz", "hwmon ina219 /sys/class/hwmon/hwmon2/power1_input @100 Hz",
 * "rapl package-0 /sys/class/powercap/intel-rapl:0/energy_uj @100 Hz",
 * "command 'CMDLINE' (readings as printed)"; "none" for NULL. Borrowed
 * until bf_probe_close.
 */
const char *bf_probe_describe(const struct bf_probe *probe);

/* Windows */

/*
 * Begin a window now, filling *w. BF_EINVAL for a NULL argument. Cheap
 * (a clock read and a short critical section); never blocks on the
 * sensor.
 */
int bf_probe_window_begin(struct bf_probe *probe, struct bf_probe_window *w);

/*
 * End window w now and fill *out. Returns 0 whenever *out is filled, even
 * with out->status BF_EIO; BF_EINVAL for a NULL argument. w is not
 * changed, so a window may be ended more than once (each time measuring
 * from its begin to now). Never blocks on the sensor.
 */
int bf_probe_window_end(struct bf_probe *probe, const struct bf_probe_window *w,
                        struct bf_probe_reading *out);

/* Arithmetic */

/*
 * The energy in mJ of a power trace (t_ns ascending or equal, p_mw finite)
 * over [t0_ns, t1_ns]: trapezoids between samples, linearly interpolated
 * where the window's edges fall between samples, and nothing beyond the
 * first and last sample (no extrapolation). *covered_ns receives the span
 * of the window that the trace covers (0 for fewer than two samples).
 * BF_EINVAL for NULL pointers (t_ns and p_mw may be NULL when n is 0),
 * t1_ns < t0_ns, timestamps going back or a non-finite power.
 */
int bf_probe_integrate(const int64_t *t_ns, const double *p_mw, size_t n,
                       int64_t t0_ns, int64_t t1_ns, double *energy_mj,
                       double *covered_ns);

#endif /* BF_PROBE_H */
