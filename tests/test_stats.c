/*
 * Tests of bf_stats: descriptive statistics, distributions, tests and
 * intervals.
 *
 * The reference tables between "BEGIN stats_reference.py" and "END
 * stats_reference.py" are the output of
 *
 *   /usr/bin/python3 scripts/peer/stats_reference.py
 *
 * with Debian 12's scipy 1.10.1, statsmodels 0.13.5, numpy 1.24.2 and
 * mpmath 1.2.1 (python3-scipy, python3-statsmodels, python3-mpmath),
 * reformatted by clang-format. The script names the scipy or statsmodels
 * call behind each table. scipy 1.10's t.ppf is accurate to about 1e-9
 * only, so the t quantiles are also held to 40-digit values from mpmath,
 * and values computed through t.ppf (the t interval) are compared to 1e-8.
 *
 * The bootstrap has no reference: its tests check determinism, that the
 * interval holds the point estimate and narrows with n, and its coverage in
 * a seeded simulation.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "bf_err.h"
#include "bf_rng.h"
#include "bf_stats.h"

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

struct mcnemar_case {
    uint64_t b;
    uint64_t c;
    double p;
};

struct mwu_case {
    const char *name;
    const double *x;
    size_t nx;
    const double *y;
    size_t ny;
    double u;
    double p;
    int exact;
    double median_x;
    double median_y;
    double superiority;
};

struct wilson_case {
    uint64_t k;
    uint64_t n;
    double conf;
    double lo;
    double hi;
};

struct t_interval_case {
    const double *v;
    size_t n;
    double conf;
    double mean;
    double half_width;
};

/* y = f(x). */
struct xy_case {
    double x;
    double y;
};

/* y = f(x; df). */
struct txy_case {
    double df;
    double x;
    double y;
};

/* The t quantile of p: scipy's value and the exact one (mpmath). */
struct t_quantile_case {
    double df;
    double p;
    double scipy;
    double exact;
};

struct holm_case {
    const double *p;
    const double *adjusted;
    size_t n;
};

/* BEGIN stats_reference.py: /usr/bin/python3 scripts/peer/stats_reference.py */
/* scipy 1.10.1, statsmodels 0.13.5+dfsg, numpy 1.24.2, mpmath 1.2.1 */

static const struct mcnemar_case mcnemar_ref[] = {
    {0, 0, 1.0},
    {0, 1, 1.0},
    {1, 0, 1.0},
    {3, 3, 1.0},
    {2, 8, 0.109375},
    {8, 2, 0.109375},
    {5, 20, 0.004077315330505371},
    {0, 25, 5.960464477539063e-08},
    {10, 3, 0.09228515625},
    {50, 80, 0.010694055123829345},
    {400, 460, 0.04416954819458915},
    {1000, 1100, 0.030720707864242486},
    {9000, 11000, 1.9540827705825487e-45},
    {9950, 10050, 0.48390593046288854},
    {9990, 10010, 0.8931260239225582},
    {49000, 51000, 2.588716038346895e-10},
    {0, 1000, 1.8665272370064378e-301},
    {3, 900, 3.6295984285091708e-264},
};

static const double mwu_exact_small_x[] = {1.1, 2.3, 0.4, 5.5, 3.3};
static const double mwu_exact_small_y[] = {4.4, 6.1, 7.2, 2.9, 8.8, 9.0};
static const double mwu_exact_8x8_x[] = {1.0, 3.0,  5.0,  7.0,
                                         9.0, 11.0, 13.0, 15.0};
static const double mwu_exact_8x8_y[] = {2.0,  4.0,  6.0,  8.0,
                                         10.0, 12.0, 14.0, 16.5};
static const double mwu_exact_separated_x[] = {1.0, 2.0, 3.0};
static const double mwu_exact_separated_y[] = {4.0, 5.0, 6.0, 7.0};
static const double mwu_exact_1x1_x[] = {2.0};
static const double mwu_exact_1x1_y[] = {1.0};
static const double mwu_asym_3x10_x[] = {0.5, 4.5, 9.5};
static const double mwu_asym_3x10_y[] = {1.0, 2.0, 3.0, 4.0, 5.0,
                                         6.0, 7.0, 8.0, 9.0, 10.0};
static const double mwu_ties_small_x[] = {1.0, 2.0, 2.0, 3.0};
static const double mwu_ties_small_y[] = {2.0, 3.0, 3.0, 4.0, 5.0};
static const double mwu_ties_quantised_x[] = {
    0.0, 1.0, 2.0, 3.0, 4.0, 0.0, 1.0, 2.0, 3.0, 4.0, 0.0, 1.0, 2.0, 3.0, 4.0,
    0.0, 1.0, 2.0, 3.0, 4.0, 0.0, 1.0, 2.0, 3.0, 4.0, 0.0, 1.0, 2.0, 3.0, 4.0};
static const double mwu_ties_quantised_y[] = {
    0.0, 3.0, 6.0, 2.0, 5.0, 1.0, 4.0, 0.0, 3.0, 6.0, 2.0, 5.0, 1.0,
    4.0, 0.0, 3.0, 6.0, 2.0, 5.0, 1.0, 4.0, 0.0, 3.0, 6.0, 2.0};
static const double mwu_all_equal_x[] = {5.0, 5.0, 5.0};
static const double mwu_all_equal_y[] = {5.0, 5.0};
static const double mwu_lognormal_40x55_x[] = {
    6.935, 6.326, 7.728,  4.319, 8.047, 6.709, 5.943, 7.611, 4.115,  7.046,
    5.934, 8.355, 8.438,  5.594, 5.585, 4.754, 5.834, 8.132, 9.556,  7.914,
    7.467, 5.696, 7.836,  5.785, 7.94,  6.953, 9.553, 7.852, 11.141, 6.537,
    9.27,  7.905, 12.292, 4.102, 9.605, 5.435, 5.694, 7.348, 4.697,  5.164};
static const double mwu_lognormal_40x55_y[] = {
    7.017, 7.413, 4.613, 6.283,  7.816,  7.849,  6.695,  8.156,  7.001,  11.612,
    6.406, 8.312, 7.051, 10.553, 6.102,  10.623, 5.705,  5.419,  6.927,  8.395,
    5.174, 7.02,  8.156, 8.08,   10.619, 10.332, 9.024,  10.741, 10.826, 5.855,
    15.73, 8.047, 6.809, 9.777,  7.053,  9.857,  5.695,  10.151, 5.589,  9.141,
    7.66,  7.026, 8.55,  6.872,  6.478,  9.193,  14.576, 6.054,  11.548, 11.296,
    5.836, 8.646, 9.556, 6.214,  11.288};

static const struct mwu_case mwu_ref[] = {
    {"exact_small", mwu_exact_small_x, 5, mwu_exact_small_y, 6, 3.0,
     0.030303030303030304, 1, 2.3, 6.65, 0.1},
    {"exact_8x8", mwu_exact_8x8_x, 8, mwu_exact_8x8_y, 8, 28.0,
     0.7209013209013208, 1, 8.0, 9.0, 0.4375},
    {"exact_separated", mwu_exact_separated_x, 3, mwu_exact_separated_y, 4, 0.0,
     0.05714285714285714, 1, 2.0, 5.5, 0.0},
    {"exact_1x1", mwu_exact_1x1_x, 1, mwu_exact_1x1_y, 1, 1.0, 1.0, 1, 2.0, 1.0,
     1.0},
    {"asym_3x10", mwu_asym_3x10_x, 3, mwu_asym_3x10_y, 10, 13.0,
     0.7998461056624733, 0, 4.5, 5.5, 0.43333333333333335},
    {"ties_small", mwu_ties_small_x, 4, mwu_ties_small_y, 5, 3.0,
     0.09934224785346528, 0, 2.0, 3.0, 0.15},
    {"ties_quantised", mwu_ties_quantised_x, 30, mwu_ties_quantised_y, 25,
     276.0, 0.09142775263669235, 0, 2.0, 3.0, 0.368},
    {"all_equal", mwu_all_equal_x, 3, mwu_all_equal_y, 2, 3.0, 1.0, 0, 5.0, 5.0,
     0.5},
    {"lognormal_40x55", mwu_lognormal_40x55_x, 40, mwu_lognormal_40x55_y, 55,
     773.0, 0.013850704802642387, 0, 6.9995, 7.849, 0.3513636363636364},
};

static const struct wilson_case wilson_ref[] = {
    {0, 10, 0.95, 0.0, 0.2775327998628892},
    {10, 10, 0.95, 0.7224672001371107, 0.9999999999999999},
    {5, 10, 0.95, 0.236593090512564, 0.7634069094874361},
    {1, 1000, 0.95, 0.00017654637062607809, 0.0056425585979579355},
    {761, 1000, 0.95, 0.7336003718062974, 0.7864020602642429},
    {7613, 10000, 0.95, 0.7528455521275075, 0.7695537703239768},
    {9999, 10000, 0.99, 0.9991488235317749, 0.999988259344712},
    {50, 100, 0.5, 0.46635196422237973, 0.5336480357776203},
    {0, 1, 0.9, 0.0, 0.730134051215946},
    {1, 1, 0.9, 0.269865948784054, 1.0},
    {3, 7, 0.999, 0.08385472008997374, 0.8600523735409218},
};

static const double tint_two[] = {1.0, 2.0};
static const double tint_five[] = {3.1, 2.9, 3.4, 3.0, 3.2};
static const double tint_five_99[] = {3.1, 2.9, 3.4, 3.0, 3.2};
static const double tint_five_50[] = {3.1, 2.9, 3.4, 3.0, 3.2};
static const double tint_thirty[] = {
    71.301,  71.539,  71.0807, 70.5875, 70.9363, 70.5067, 71.3481, 72.3722,
    70.9062, 70.8036, 71.6919, 71.5855, 71.3843, 70.5556, 71.2766, 71.8562,
    70.2246, 70.9339, 69.779,  70.2684, 69.8266, 71.1119, 70.286,  71.517,
    71.4254, 71.1505, 69.2866, 70.869,  71.2612, 71.3906};

static const struct t_interval_case t_interval_ref[] = {
    {tint_two, 2, 0.95, 1.5, 6.353102368216048},
    {tint_five, 5, 0.95, 3.12, 0.23883883880999848},
    {tint_five_99, 5, 0.99, 3.12, 0.3960592164424234},
    {tint_five_50, 5, 0.5, 3.12, 0.06371717241702742},
    {tint_thirty, 30, 0.95, 70.96873666666667, 0.24980733771414768},
};

static const struct xy_case normal_cdf_ref[] = {
    {-38.0, 0.0},
    {-10.0, 7.61985302416047e-24},
    {-3.0, 0.0013498980316300933},
    {-1.0, 0.15865525393145707},
    {-0.1, 0.460172162722971},
    {0.0, 0.5},
    {0.5, 0.6914624612740131},
    {2.0, 0.9772498680518208},
    {8.0, 0.9999999999999993},
};

static const struct xy_case normal_quantile_ref[] = {
    {1e-300, -37.0470962993612},
    {1e-20, -9.262340089798409},
    {1e-10, -6.361340902404056},
    {1e-05, -4.264890793922825},
    {0.001, -3.090232306167813},
    {0.02425, -1.972961051311885},
    {0.025, -1.9599639845400545},
    {0.3, -0.5244005127080409},
    {0.5, 0.0},
    {0.7, 0.5244005127080407},
    {0.975, 1.959963984540054},
    {0.999999, 4.753424308817087},
};

static const struct txy_case t_cdf_ref[] = {
    {1.0, -50.0, 0.006365349100972797},
    {1.0, -5.0, 0.06283295818900117},
    {1.0, -2.0, 0.1475836176504332},
    {1.0, -0.5, 0.3524163823495668},
    {1.0, 0.1, 0.5317255174305535},
    {1.0, 1.0, 0.7500000000000002},
    {1.0, 3.0, 0.8975836176504333},
    {1.0, 30.0, 0.9893935975944645},
    {2.0, -50.0, 0.00019988007994404026},
    {2.0, -5.0, 0.018874775675311862},
    {2.0, -2.0, 0.09175170953613696},
    {2.0, -0.5, 0.33333333333333337},
    {2.0, 0.1, 0.53526728079293},
    {2.0, 1.0, 0.7886751345948129},
    {2.0, 3.0, 0.9522670168666454},
    {2.0, 30.0, 0.9994453686590202},
    {2.5, -50.0, 4.0652475424793646e-05},
    {2.5, -5.0, 0.011725594985430922},
    {2.5, -2.0, 0.078695747878983},
    {2.5, -0.5, 0.3288489599348574},
    {2.5, 0.1, 0.5360967279687552},
    {2.5, 1.0, 0.7979694863608633},
    {2.5, 3.0, 0.9637119522254841},
    {2.5, 30.0, 0.9998544676454213},
    {3.0, -50.0, 8.808576020635976e-06},
    {3.0, -5.0, 0.007696219036651148},
    {3.0, -2.0, 0.06966298427942155},
    {3.0, -0.5, 0.3257239824240755},
    {3.0, 0.1, 0.5366738255995971},
    {3.0, 1.0, 0.8044988905221148},
    {3.0, 3.0, 0.9711655571887813},
    {3.0, 30.0, 0.9999593235978642},
    {4.0, -50.0, 4.787226828484846e-07},
    {4.0, -5.0, 0.003745216940637263},
    {4.0, -2.0, 0.05805826175840775},
    {4.0, -0.5, 0.32166498159093165},
    {4.0, 0.1, 0.5374220795302733},
    {4.0, 1.0, 0.8130495168499705},
    {4.0, 3.0, 0.9800290159641406},
    {4.0, 30.0, 0.9999963235719512},
    {5.0, -50.0, 3.023878813300617e-08},
    {5.0, -5.0, 0.0020523579900266612},
    {5.0, -2.0, 0.05096973941492914},
    {5.0, -0.5, 0.3191494358204645},
    {5.0, 0.1, 0.5378849294226699},
    {5.0, 1.0, 0.8183912661754387},
    {5.0, 3.0, 0.9849503760512688},
    {5.0, 30.0, 0.999999614067569},
    {7.0, -50.0, 1.6756262977750234e-10},
    {7.0, -5.0, 0.000782638976586412},
    {7.0, -2.0, 0.04280966428148798},
    {7.0, -0.5, 0.3162035678446421},
    {7.0, 0.1, 0.5384259701976037},
    {7.0, 1.0, 0.8246916685898963},
    {7.0, 3.0, 0.9900289369340037},
    {7.0, 30.0, 0.9999999941057656},
    {10.0, -50.0, 1.2371551646513438e-13},
    {10.0, -5.0, 0.00026866680137822624},
    {10.0, -2.0, 0.036694017385370196},
    {10.0, -0.5, 0.31394680287148646},
    {10.0, 0.1, 0.5388396407177959},
    {10.0, 1.0, 0.82955343384897},
    {10.0, 3.0, 0.9933281724887152},
    {10.0, 30.0, 0.9999999999801911},
    {30.0, -50.0, 9.357708829611422e-31},
    {30.0, -5.0, 1.1648342733503893e-05},
    {30.0, -2.0, 0.02731252248149155},
    {30.0, -0.5, 0.31036150244256366},
    {30.0, 0.1, 0.5394951941048645},
    {30.0, 1.0, 0.8373456922869851},
    {30.0, 3.0, 0.997305017967174},
    {30.0, 30.0, 1.0},
    {100.0, -50.0, 7.23608183988067e-73},
    {100.0, -5.0, 1.2250867067518993e-06},
    {100.0, -2.0, 0.02410608936556682},
    {100.0, -0.5, 0.30908678291544334},
    {100.0, 0.1, 0.5397277344520743},
    {100.0, 1.0, 0.8401379221079381},
    {100.0, 3.0, 0.9982960423283352},
    {100.0, 30.0, 1.0},
    {1000.0, -50.0, 1.3793362061624403e-274},
    {1000.0, -5.0, 3.383628182324313e-07},
    {1000.0, -2.0, 0.022885173246625833},
    {1000.0, -0.5, 0.3085925404169375},
    {1000.0, 0.1, 0.539817815488198},
    {1000.0, 1.0, 0.8412237909576636},
    {1000.0, 3.0, 0.9986166454778809},
    {1000.0, 30.0, 1.0},
    {1000000.0, -50.0, 0.0},
    {1000000.0, -5.0, 2.8669989354453655e-07},
    {1000000.0, -2.0, 0.0227502669256596},
    {1000000.0, -0.5, 0.30853759373618583},
    {1000000.0, 0.1, 0.5398278272539785},
    {1000000.0, 1.0, 0.841344625083211},
    {1000000.0, 3.0, 0.9986500687292891},
    {1000000.0, 30.0, 1.0},
};

static const struct t_quantile_case t_quantile_ref[] = {
    {1.0, 1e-10, -3183098861.837907, -3183098861.837907},
    {1.0, 0.0001, -3183.098757153359, -3183.098757118151},
    {1.0, 0.025, -12.706204736432102, -12.706204736174705},
    {1.0, 0.1, -3.077683537207806, -3.077683537175253},
    {1.0, 0.4, -0.32491969623407446, -0.32491969623290623},
    {1.0, 0.6, 0.32491969623407446, 0.32491969623290623},
    {1.0, 0.975, 12.706204736432095, 12.706204736174694},
    {1.0, 0.9999, 3183.0987571537103, 3183.0987571185015},
    {2.0, 1e-10, -70710.67810804815, -70710.67810804815},
    {2.0, 0.0001, -70.70007107496495, -70.70007107496427},
    {2.0, 0.025, -4.3026527299112765, -4.302652729749464},
    {2.0, 0.1, -1.88561808316415, -1.8856180831641267},
    {2.0, 0.4, -0.2886751346880066, -0.2886751345948128},
    {2.0, 0.6, 0.2886751346880066, 0.2886751345948128},
    {2.0, 0.975, 4.302652729911275, 4.302652729749462},
    {2.0, 0.9999, 70.70007107496886, 70.70007107496818},
    {2.5, 1e-10, -8765.437771364584, -8765.437771364572},
    {2.5, 0.0001, -34.86796933237047, -34.86796932111477},
    {2.5, 0.025, -3.574654842011878, -3.574654842003683},
    {2.5, 0.1, -1.7302509288071768, -1.7302509288071766},
    {2.5, 0.4, -0.2814595125866358, -0.2814595127485476},
    {2.5, 0.6, 0.2814595125866358, 0.2814595127485476},
    {2.5, 0.975, 3.5746548420118773, 3.5746548420036817},
    {2.5, 0.9999, 34.86796933237202, 34.86796932111631},
    {3.0, 1e-10, -2225.769284683086, -2225.7692846830932},
    {3.0, 0.0001, -22.203742266779802, -22.20374227320418},
    {3.0, 0.025, -3.1824463052842638, -3.1824463052837095},
    {3.0, 0.1, -1.6377443572159065, -1.63774435369621},
    {3.0, 0.4, -0.27667066230490933, -0.27667066233268983},
    {3.0, 0.6, 0.27667066230490933, 0.27667066233268983},
    {3.0, 0.975, 3.182446305284263, 3.1824463052837086},
    {3.0, 0.9999, 22.203742266780633, 22.203742273205002},
    {4.0, 1e-10, -416.1751403292461, -416.1751403296041},
    {4.0, 0.0001, -13.033671721107137, -13.033671720896455},
    {4.0, 0.025, -2.7764451051977996, -2.7764451051977943},
    {4.0, 0.1, -1.5332062737131438, -1.5332062740589438},
    {4.0, 0.4, -0.2707222947059493, -0.27072229470759734},
    {4.0, 0.6, 0.2707222947059493, 0.27072229470759734},
    {4.0, 0.975, 2.7764451051977987, 2.7764451051977934},
    {4.0, 0.9999, 13.033671721107503, 13.033671720896821},
    {5.0, 1e-10, -156.8255928081382, -156.8255927088943},
    {5.0, 0.0001, -9.677566300886278, -9.67756630088259},
    {5.0, 0.025, -2.57058183661474, -2.5705818356363155},
    {5.0, 0.1, -1.475884048782027, -1.475884048824481},
    {5.0, 0.4, -0.2671808657039658, -0.26718086570414507},
    {5.0, 0.6, 0.2671808657039658, 0.26718086570414507},
    {5.0, 0.975, 2.5705818366147395, 2.5705818356363146},
    {5.0, 0.9999, 9.677566300886502, 9.677566300882814},
    {7.0, 1e-10, -53.835579514581795, -53.83557948467373},
    {7.0, 0.0001, -7.063432838878937, -7.063432828157514},
    {7.0, 0.025, -2.3646242510103, -2.3646242515927853},
    {7.0, 0.1, -1.4149239276488585, -1.4149239276505083},
    {7.0, 0.4, -0.2631668613520166, -0.2631668613520228},
    {7.0, 0.6, 0.2631668613520166, 0.2631668613520228},
    {7.0, 0.975, 2.3646242510102993, 2.364624251592785},
    {7.0, 0.9999, 7.063432838879061, 7.063432828157639},
    {10.0, 1e-10, -25.46600802066332, -25.466008021697725},
    {10.0, 0.0001, -5.693820101511748, -5.693820101457512},
    {10.0, 0.025, -2.2281388519649385, -2.228138851986275},
    {10.0, 0.1, -1.3721836411102861, -1.3721836411103356},
    {10.0, 0.4, -0.26018482949208005, -0.26018482949208016},
    {10.0, 0.6, 0.26018482949208005, 0.26018482949208016},
    {10.0, 0.975, 2.2281388519649385, 2.2281388519862744},
    {10.0, 0.9999, 5.693820101511829, 5.693820101457592},
    {30.0, 1e-10, -9.377489784984645, -9.377489780407144},
    {30.0, 0.0001, -4.233985956584173, -4.233985957272021},
    {30.0, 0.025, -2.042272456301238, -2.042272456301238},
    {30.0, 0.1, -1.3104150225671303, -1.3104150253913955},
    {30.0, 0.4, -0.2556053644420514, -0.2556053649519127},
    {30.0, 0.6, 0.2556053644420514, 0.2556053649519127},
    {30.0, 0.975, 2.0422724563012373, 2.0422724563012378},
    {30.0, 0.9999, 4.233985956584213, 4.23398595727206},
    {100.0, 1e-10, -7.083375479740876, -7.083375481400722},
    {100.0, 0.0001, -3.861599790950053, -3.8615997909500597},
    {100.0, 0.025, -1.983971518449634, -1.9839715185235522},
    {100.0, 0.1, -1.2900747613398766, -1.290074761346516},
    {100.0, 0.4, -0.25402218245699415, -0.2540221824582278},
    {100.0, 0.6, 0.25402218245699415, 0.2540221824582278},
    {100.0, 0.975, 1.9839715184496334, 1.9839715185235518},
    {100.0, 0.9999, 3.8615997909500837, 3.8615997909500908},
    {1000.0, 1e-10, -6.427876283066734, -6.427876283134213},
    {1000.0, 0.0001, -3.732851604575083, -3.732851604575368},
    {1000.0, 0.025, -1.9623390808264078, -1.9623390808264085},
    {1000.0, 0.1, -1.2823987214609245, -1.2823987214609245},
    {1000.0, 0.4, -0.25341451583949864, -0.2534145158394987},
    {1000.0, 0.6, 0.25341451583949864, 0.2534145158394987},
    {1000.0, 0.975, 1.9623390808264074, 1.962339080826408},
    {1000.0, 0.9999, 3.7328516045751114, 3.732851604575396},
    {1000000.0, 1e-10, -6.361406848876743, -6.361406848876743},
    {1000000.0, 0.0001, -3.719030274762543, -3.7190302747625434},
    {1000000.0, 0.025, -1.959966356814107, -1.959966356814107},
    {1000000.0, 0.1, -1.2815524121299384, -1.2815524121299384},
    {1000000.0, 0.4, -0.25334717053784156, -0.2533471705378416},
    {1000000.0, 0.6, 0.25334717053784156, 0.2533471705378416},
    {1000000.0, 0.975, 1.9599663568141066, 1.9599663568141066},
    {1000000.0, 0.9999, 3.719030274762571, 3.7190302747625714},
};

static const double holm_mixed_p[] = {0.01, 0.04, 0.03, 0.005, 0.5, 0.04};
static const double holm_mixed_adj[] = {0.05, 0.12, 0.12, 0.03, 0.5, 0.12};
static const double holm_clipped_p[] = {0.6, 0.9, 0.01};
static const double holm_clipped_adj[] = {1.0, 1.0, 0.03};
static const double holm_single_p[] = {0.03};
static const double holm_single_adj[] = {0.03};
static const double holm_zeros_p[] = {0.0, 0.0, 1.0};
static const double holm_zeros_adj[] = {0.0, 0.0, 1.0};

static const struct holm_case holm_ref[] = {
    {holm_mixed_p, holm_mixed_adj, 6},
    {holm_clipped_p, holm_clipped_adj, 3},
    {holm_single_p, holm_single_adj, 1},
    {holm_zeros_p, holm_zeros_adj, 3},
};

/* END stats_reference.py */

/*
 * Fail unless got is within rel (relative) or abs_tol (absolute) of want;
 * the message names the case by what and arg (an argument or a field
 * number).
 */
static void check_close(double got, double want, double rel, double abs_tol,
                        const char *what, double arg)
{
    double err = fabs(got - want);

    if (got == want)
        return;
    if (!(err <= abs_tol || err <= rel * fabs(want)))
        fail_msg("%s(%.17g): got %.17g, want %.17g (rel error %.3g)", what, arg,
                 got, want, want != 0.0 ? err / fabs(want) : err);
}

/* Descriptive statistics. */

static void test_stats_known_values(void **state)
{
    const double v[] = {4, 1, 3, 2};
    struct bf_stats s;

    (void)state;
    assert_int_equal(bf_stats_compute(v, 4, &s), 0);
    assert_int_equal(s.n, 4);
    assert_float_equal(s.mean, 2.5, 1e-12);
    assert_float_equal(s.p50, 2.5, 1e-12);
    assert_float_equal(s.p90, 3.7, 1e-12);
    assert_float_equal(s.p99, 3.97, 1e-12);
    assert_float_equal(s.min, 1.0, 0.0);
    assert_float_equal(s.max, 4.0, 0.0);
    assert_float_equal(s.stddev, 1.2909944487358056, 1e-12);
    /* The input is not reordered. */
    assert_float_equal(v[0], 4.0, 0.0);
}

static void test_stats_single_and_empty(void **state)
{
    const double v[] = {7.0};
    struct bf_stats s;

    (void)state;
    assert_int_equal(bf_stats_compute(v, 1, &s), 0);
    assert_float_equal(s.p99, 7.0, 0.0);
    assert_float_equal(s.stddev, 0.0, 0.0);
    assert_int_equal(bf_stats_compute(v, 0, &s), BF_EINVAL);
}

static void test_stats_percentile_of_hundred(void **state)
{
    double v[101];
    struct bf_stats s;

    (void)state;
    for (int i = 0; i <= 100; i++)
        v[i] = 100 - i;
    assert_int_equal(bf_stats_compute(v, 101, &s), 0);
    assert_float_equal(s.p90, 90.0, 1e-12);
    assert_float_equal(s.p99, 99.0, 1e-12);
}

/* Distributions. */

static void test_stats_normal_cdf_matches_scipy(void **state)
{
    (void)state;
    /* scipy rounds cdf(-38) = 2.9e-316 (subnormal) to 0: hence 1e-300. */
    for (size_t i = 0; i < ARRAY_LEN(normal_cdf_ref); i++)
        check_close(bf_stats_normal_cdf(normal_cdf_ref[i].x),
                    normal_cdf_ref[i].y, 1e-14, 1e-300, "normal_cdf",
                    normal_cdf_ref[i].x);
}

static void test_stats_normal_quantile_matches_scipy(void **state)
{
    (void)state;
    for (size_t i = 0; i < ARRAY_LEN(normal_quantile_ref); i++)
        check_close(bf_stats_normal_quantile(normal_quantile_ref[i].x),
                    normal_quantile_ref[i].y, 1e-14, 0.0, "normal_quantile",
                    normal_quantile_ref[i].x);
}

static void test_stats_normal_quantile_edges(void **state)
{
    (void)state;
    assert_true(isinf(bf_stats_normal_quantile(0.0)) &&
                bf_stats_normal_quantile(0.0) < 0);
    assert_true(isinf(bf_stats_normal_quantile(1.0)) &&
                bf_stats_normal_quantile(1.0) > 0);
    assert_true(isnan(bf_stats_normal_quantile(-0.1)));
    assert_true(isnan(bf_stats_normal_quantile(1.5)));
    assert_true(isnan(bf_stats_normal_quantile(NAN)));
    /* The quantile inverts the cdf across both tails. */
    for (double p = 1e-12; p < 1.0; p = p < 0.01 ? p * 10 : p + 0.01)
        check_close(bf_stats_normal_cdf(bf_stats_normal_quantile(p)), p, 1e-13,
                    0.0, "cdf(quantile)", p);
}

static void test_stats_t_cdf_matches_scipy(void **state)
{
    (void)state;
    for (size_t i = 0; i < ARRAY_LEN(t_cdf_ref); i++) {
        const struct txy_case *r = &t_cdf_ref[i];

        check_close(bf_stats_t_cdf(r->x, r->df), r->y, 1e-12, 1e-300, "t_cdf",
                    r->df);
    }
}

static void test_stats_t_quantile_matches_scipy(void **state)
{
    (void)state;
    for (size_t i = 0; i < ARRAY_LEN(t_quantile_ref); i++) {
        const struct t_quantile_case *r = &t_quantile_ref[i];
        double t = bf_stats_t_quantile(r->p, r->df);

        check_close(t, r->exact, 1e-13, 0.0, "t_quantile exact", r->df);
        check_close(t, r->scipy, 1e-8, 0.0, "t_quantile scipy", r->df);
    }
}

static void test_stats_t_quantile_inverts_cdf_for_df_1_to_1000(void **state)
{
    const double ps[] = {1e-8, 0.0005, 0.025, 0.3, 0.8, 0.975, 0.995};

    (void)state;
    for (int df = 1; df <= 1000; df++) {
        for (size_t i = 0; i < ARRAY_LEN(ps); i++) {
            double t = bf_stats_t_quantile(ps[i], df);
            double tail =
                ps[i] < 0.5 ? bf_stats_t_cdf(t, df) : bf_stats_t_cdf(-t, df);

            check_close(tail, ps[i] < 0.5 ? ps[i] : 1.0 - ps[i], 1e-11, 0.0,
                        "t_cdf(t_quantile)", df);
        }
    }
}

static void test_stats_t_edges(void **state)
{
    (void)state;
    assert_true(isnan(bf_stats_t_cdf(1.0, 0.0)));
    assert_true(isnan(bf_stats_t_cdf(1.0, -3.0)));
    assert_true(isnan(bf_stats_t_cdf(NAN, 3.0)));
    assert_float_equal(bf_stats_t_cdf(-INFINITY, 3.0), 0.0, 0.0);
    assert_float_equal(bf_stats_t_cdf(INFINITY, 3.0), 1.0, 0.0);
    assert_float_equal(bf_stats_t_cdf(0.0, 3.0), 0.5, 0.0);
    assert_float_equal(bf_stats_t_quantile(0.5, 7.0), 0.0, 0.0);
    assert_true(isnan(bf_stats_t_quantile(0.5, 0.0)));
    assert_true(isnan(bf_stats_t_quantile(1.1, 3.0)));
    assert_true(isinf(bf_stats_t_quantile(0.0, 3.0)));
    assert_true(isinf(bf_stats_t_quantile(1.0, 3.0)));
    /* Infinite degrees of freedom give the normal distribution. */
    check_close(bf_stats_t_quantile(0.975, INFINITY),
                bf_stats_normal_quantile(0.975), 1e-15, 0.0, "t_quantile",
                INFINITY);
    check_close(bf_stats_t_cdf(1.5, INFINITY), bf_stats_normal_cdf(1.5), 1e-15,
                0.0, "t_cdf", INFINITY);
}

/* McNemar's test. */

static void test_stats_mcnemar_matches_statsmodels(void **state)
{
    (void)state;
    for (size_t i = 0; i < ARRAY_LEN(mcnemar_ref); i++) {
        double p = -1.0;

        assert_int_equal(
            bf_stats_mcnemar_exact(mcnemar_ref[i].b, mcnemar_ref[i].c, &p), 0);
        check_close(p, mcnemar_ref[i].p, 1e-12, 0.0, "mcnemar b",
                    (double)mcnemar_ref[i].b);
    }
}

static void test_stats_mcnemar_edges(void **state)
{
    double p = -1.0;
    double q = -1.0;

    (void)state;
    /* No discordant pairs: nothing to test, p is 1. */
    assert_int_equal(bf_stats_mcnemar_exact(0, 0, &p), 0);
    assert_float_equal(p, 1.0, 0.0);
    /* Symmetric in b and c, and usable far beyond 20000 pairs. */
    assert_int_equal(bf_stats_mcnemar_exact(2000000, 2003000, &p), 0);
    assert_int_equal(bf_stats_mcnemar_exact(2003000, 2000000, &q), 0);
    assert_float_equal(p, q, 0.0);
    assert_true(p > 0.0 && p < 1.0);
    assert_int_equal(bf_stats_mcnemar_exact(1, 2, NULL), BF_EINVAL);
    assert_int_equal(bf_stats_mcnemar_exact(UINT64_MAX, 1, &p), BF_EINVAL);
    assert_true(strlen(bf_last_error()) > 0);
}

/* Mann-Whitney U. */

static void test_stats_mann_whitney_matches_scipy(void **state)
{
    (void)state;
    for (size_t i = 0; i < ARRAY_LEN(mwu_ref); i++) {
        const struct mwu_case *r = &mwu_ref[i];
        struct bf_stats_mwu m;

        assert_int_equal(bf_stats_mann_whitney(r->x, r->nx, r->y, r->ny, &m),
                         0);
        if (m.exact != r->exact)
            fail_msg("mann-whitney %s: exact %d, want %d", r->name, m.exact,
                     r->exact);
        check_close(m.u, r->u, 1e-15, 0.0, r->name, 0);
        check_close(m.p, r->p, 1e-12, 0.0, r->name, 1);
        check_close(m.median_x, r->median_x, 1e-15, 0.0, r->name, 2);
        check_close(m.median_y, r->median_y, 1e-15, 0.0, r->name, 3);
        check_close(m.median_ratio, r->median_y / r->median_x, 1e-15, 0.0,
                    r->name, 4);
        check_close(m.superiority, r->superiority, 1e-15, 0.0, r->name, 5);
    }
}

static void test_stats_mann_whitney_all_equal_is_one(void **state)
{
    const double x[] = {3, 3, 3, 3, 3, 3, 3, 3, 3, 3};
    struct bf_stats_mwu m;

    (void)state;
    assert_int_equal(bf_stats_mann_whitney(x, 10, x, 7, &m), 0);
    assert_float_equal(m.p, 1.0, 0.0);
    assert_float_equal(m.u, 35.0, 0.0);
    assert_float_equal(m.superiority, 0.5, 0.0);
    assert_float_equal(m.median_ratio, 1.0, 0.0);
}

static void test_stats_mann_whitney_keeps_inputs(void **state)
{
    double x[] = {5, 1, 4};
    double y[] = {9, 2, 8, 7};
    const double x0[] = {5, 1, 4};
    const double y0[] = {9, 2, 8, 7};
    struct bf_stats_mwu m;

    (void)state;
    assert_int_equal(bf_stats_mann_whitney(x, 3, y, 4, &m), 0);
    assert_memory_equal(x, x0, sizeof(x));
    assert_memory_equal(y, y0, sizeof(y));
    /* Swapping the sides gives U2 and the same p. */
    {
        struct bf_stats_mwu s;

        assert_int_equal(bf_stats_mann_whitney(y, 4, x, 3, &s), 0);
        assert_float_equal(s.u, 12.0 - m.u, 0.0);
        assert_float_equal(s.p, m.p, 1e-15);
    }
}

static void test_stats_mann_whitney_bad_args(void **state)
{
    const double x[] = {1, 2};
    const double nan_y[] = {1, NAN};
    struct bf_stats_mwu m;

    (void)state;
    assert_int_equal(bf_stats_mann_whitney(NULL, 2, x, 2, &m), BF_EINVAL);
    assert_int_equal(bf_stats_mann_whitney(x, 2, NULL, 2, &m), BF_EINVAL);
    assert_int_equal(bf_stats_mann_whitney(x, 2, x, 2, NULL), BF_EINVAL);
    assert_int_equal(bf_stats_mann_whitney(x, 0, x, 2, &m), BF_EINVAL);
    assert_int_equal(bf_stats_mann_whitney(x, 2, x, 0, &m), BF_EINVAL);
    assert_int_equal(bf_stats_mann_whitney(x, 2, nan_y, 2, &m), BF_EINVAL);
}

/* Holm-Bonferroni. */

static void test_stats_holm_matches_statsmodels(void **state)
{
    double adj[8];

    (void)state;
    for (size_t i = 0; i < ARRAY_LEN(holm_ref); i++) {
        const struct holm_case *r = &holm_ref[i];

        assert_int_equal(bf_stats_holm(r->p, r->n, adj), 0);
        for (size_t j = 0; j < r->n; j++)
            check_close(adj[j], r->adjusted[j], 1e-15, 0.0, "holm", (double)j);
    }
}

static void test_stats_holm_in_place(void **state)
{
    double p[ARRAY_LEN(holm_mixed_p)];

    (void)state;
    memcpy(p, holm_mixed_p, sizeof(p));
    assert_int_equal(bf_stats_holm(p, ARRAY_LEN(p), p), 0);
    for (size_t j = 0; j < ARRAY_LEN(p); j++)
        check_close(p[j], holm_mixed_adj[j], 1e-15, 0.0, "holm", (double)j);
}

static void test_stats_holm_bad_args(void **state)
{
    const double p[] = {0.1, 1.5};
    const double q[] = {0.1, NAN};
    const double r[] = {-0.1};
    double adj[2];

    (void)state;
    assert_int_equal(bf_stats_holm(NULL, 2, adj), BF_EINVAL);
    assert_int_equal(bf_stats_holm(p, 2, NULL), BF_EINVAL);
    assert_int_equal(bf_stats_holm(p, 0, adj), BF_EINVAL);
    assert_int_equal(bf_stats_holm(p, 2, adj), BF_EINVAL);
    assert_int_equal(bf_stats_holm(q, 2, adj), BF_EINVAL);
    assert_int_equal(bf_stats_holm(r, 1, adj), BF_EINVAL);
}

/* Wilson interval. */

static void test_stats_wilson_matches_statsmodels(void **state)
{
    (void)state;
    for (size_t i = 0; i < ARRAY_LEN(wilson_ref); i++) {
        const struct wilson_case *r = &wilson_ref[i];
        double lo, hi;

        assert_int_equal(bf_stats_wilson(r->k, r->n, r->conf, &lo, &hi), 0);
        check_close(lo, r->lo, 1e-13, 1e-15, "wilson lo", (double)i);
        check_close(hi, r->hi, 1e-13, 1e-15, "wilson hi", (double)i);
        assert_true(lo >= 0.0 && hi <= 1.0 && lo <= hi);
    }
}

static void test_stats_wilson_bounds_at_zero_and_n(void **state)
{
    double lo, hi;

    (void)state;
    assert_int_equal(bf_stats_wilson(0, 50, 0.95, &lo, &hi), 0);
    assert_float_equal(lo, 0.0, 1e-15);
    assert_true(hi > 0.0 && hi < 1.0);
    assert_int_equal(bf_stats_wilson(50, 50, 0.95, &lo, &hi), 0);
    assert_float_equal(hi, 1.0, 1e-15);
    assert_true(lo > 0.0 && lo < 1.0);
}

static void test_stats_wilson_bad_args(void **state)
{
    double lo, hi;

    (void)state;
    assert_int_equal(bf_stats_wilson(1, 0, 0.95, &lo, &hi), BF_EINVAL);
    assert_int_equal(bf_stats_wilson(0, 0, 0.95, &lo, &hi), BF_EINVAL);
    assert_int_equal(bf_stats_wilson(11, 10, 0.95, &lo, &hi), BF_EINVAL);
    assert_int_equal(bf_stats_wilson(1, 10, 0.0, &lo, &hi), BF_EINVAL);
    assert_int_equal(bf_stats_wilson(1, 10, 1.0, &lo, &hi), BF_EINVAL);
    assert_int_equal(bf_stats_wilson(1, 10, 95.0, &lo, &hi), BF_EINVAL);
    assert_int_equal(bf_stats_wilson(1, 10, NAN, &lo, &hi), BF_EINVAL);
    assert_int_equal(bf_stats_wilson(1, 10, 0.95, NULL, &hi), BF_EINVAL);
    assert_int_equal(bf_stats_wilson(1, 10, 0.95, &lo, NULL), BF_EINVAL);
}

/* Student t interval. */

static void test_stats_t_interval_matches_scipy(void **state)
{
    (void)state;
    for (size_t i = 0; i < ARRAY_LEN(t_interval_ref); i++) {
        const struct t_interval_case *r = &t_interval_ref[i];
        double mean, half;

        assert_int_equal(bf_stats_t_interval(r->v, r->n, r->conf, &mean, &half),
                         0);
        check_close(mean, r->mean, 1e-14, 0.0, "t interval mean", (double)i);
        /* Through scipy's t.ppf, good to about 1e-9. */
        check_close(half, r->half_width, 1e-8, 0.0, "t interval half",
                    (double)i);
    }
}

static void test_stats_t_interval_single_value(void **state)
{
    const double v[] = {42.5};
    double mean = 0.0, half = 0.0;

    (void)state;
    assert_int_equal(bf_stats_t_interval(v, 1, 0.95, &mean, &half), 0);
    assert_float_equal(mean, 42.5, 0.0);
    assert_true(isnan(half));
}

static void test_stats_t_interval_bad_args(void **state)
{
    const double v[] = {1, 2, 3};
    const double w[] = {1, NAN, 3};
    double mean, half;

    (void)state;
    assert_int_equal(bf_stats_t_interval(NULL, 3, 0.95, &mean, &half),
                     BF_EINVAL);
    assert_int_equal(bf_stats_t_interval(v, 0, 0.95, &mean, &half), BF_EINVAL);
    assert_int_equal(bf_stats_t_interval(v, 3, 0.0, &mean, &half), BF_EINVAL);
    assert_int_equal(bf_stats_t_interval(v, 3, 1.0, &mean, &half), BF_EINVAL);
    assert_int_equal(bf_stats_t_interval(v, 3, -0.5, &mean, &half), BF_EINVAL);
    assert_int_equal(bf_stats_t_interval(w, 3, 0.95, &mean, &half), BF_EINVAL);
    assert_int_equal(bf_stats_t_interval(v, 3, 0.95, NULL, &half), BF_EINVAL);
    assert_int_equal(bf_stats_t_interval(v, 3, 0.95, &mean, NULL), BF_EINVAL);
}

/* Bootstrap. */

/* n draws of 1 + Exp(1) times scale, from (seed, stream 1). */
static void exp_sample(double *v, size_t n, double scale, uint64_t seed)
{
    struct bf_rng rng;

    bf_rng_init(&rng, seed, 1);
    for (size_t i = 0; i < n; i++)
        v[i] = scale * (1.0 - log1p(-bf_rng_uniform(&rng)));
}

static double median_of(const double *v, size_t n)
{
    double *s = malloc(n * sizeof(*s));
    double m;

    assert_non_null(s);
    memcpy(s, v, n * sizeof(*s));
    for (size_t i = 1; i < n; i++) /* insertion sort: n is small */
        for (size_t j = i; j > 0 && s[j - 1] > s[j]; j--) {
            double t = s[j];

            s[j] = s[j - 1];
            s[j - 1] = t;
        }
    m = bf_stats_percentile_sorted(s, n, 50.0);
    free(s);
    return m;
}

static void test_stats_bootstrap_percentile_deterministic(void **state)
{
    double v[80];
    double lo1, hi1, lo2, hi2, lo3, hi3;

    (void)state;
    exp_sample(v, ARRAY_LEN(v), 1.0, 11);
    assert_int_equal(
        bf_stats_bootstrap_percentile(v, 80, 90.0, 500, 7, 0.95, &lo1, &hi1),
        0);
    assert_int_equal(
        bf_stats_bootstrap_percentile(v, 80, 90.0, 500, 7, 0.95, &lo2, &hi2),
        0);
    assert_float_equal(lo1, lo2, 0.0);
    assert_float_equal(hi1, hi2, 0.0);
    assert_int_equal(
        bf_stats_bootstrap_percentile(v, 80, 90.0, 500, 8, 0.95, &lo3, &hi3),
        0);
    assert_true(lo3 != lo1 || hi3 != hi1);
}

static void test_stats_bootstrap_percentile_contains_and_shrinks(void **state)
{
    static double v[2000];
    double lo_small, hi_small, lo_big, hi_big;
    double est;

    (void)state;
    exp_sample(v, ARRAY_LEN(v), 1.0, 12);
    /* The first 50 values, then all 2000. */
    est = median_of(v, 50);
    assert_int_equal(bf_stats_bootstrap_percentile(v, 50, 50.0, 1000, 3, 0.95,
                                                   &lo_small, &hi_small),
                     0);
    assert_true(lo_small <= est && est <= hi_small);
    assert_int_equal(bf_stats_bootstrap_percentile(v, 2000, 50.0, 300, 3, 0.95,
                                                   &lo_big, &hi_big),
                     0);
    assert_true(lo_big <= median_of(v, 2000) && median_of(v, 2000) <= hi_big);
    assert_true(hi_big - lo_big < 0.5 * (hi_small - lo_small));
    /* A constant sample has a zero-width interval at its value. */
    {
        const double c[] = {4, 4, 4, 4, 4};

        assert_int_equal(bf_stats_bootstrap_percentile(c, 5, 99.0, 50, 1, 0.9,
                                                       &lo_small, &hi_small),
                         0);
        assert_float_equal(lo_small, 4.0, 0.0);
        assert_float_equal(hi_small, 4.0, 0.0);
    }
}

/*
 * Coverage in a seeded simulation: 200 samples of 1 + Exp(1), whose median
 * is 1 + ln 2; the 95 % interval should hold it in about 95 % of them.
 */
static void test_stats_bootstrap_percentile_coverage(void **state)
{
    const double truth = 1.0 + log(2.0);
    double v[60];
    int hits = 0;

    (void)state;
    for (int trial = 0; trial < 200; trial++) {
        double lo, hi;

        exp_sample(v, ARRAY_LEN(v), 1.0, 1000 + (uint64_t)trial);
        assert_int_equal(bf_stats_bootstrap_percentile(v, ARRAY_LEN(v), 50.0,
                                                       400, (uint64_t)trial,
                                                       0.95, &lo, &hi),
                         0);
        hits += lo <= truth && truth <= hi;
    }
    print_message("bootstrap percentile coverage %.3f\n", hits / 200.0);
    assert_true(hits >= 176 && hits <= 198);
}

static void test_stats_bootstrap_percentile_bad_args(void **state)
{
    const double v[] = {1, 2, 3};
    const double w[] = {1, NAN, 3};
    double lo, hi;

    (void)state;
    assert_int_equal(
        bf_stats_bootstrap_percentile(NULL, 3, 50, 10, 1, 0.95, &lo, &hi),
        BF_EINVAL);
    assert_int_equal(
        bf_stats_bootstrap_percentile(v, 0, 50, 10, 1, 0.95, &lo, &hi),
        BF_EINVAL);
    assert_int_equal(
        bf_stats_bootstrap_percentile(v, 3, 50, 0, 1, 0.95, &lo, &hi),
        BF_EINVAL);
    assert_int_equal(
        bf_stats_bootstrap_percentile(v, 3, 101, 10, 1, 0.95, &lo, &hi),
        BF_EINVAL);
    assert_int_equal(
        bf_stats_bootstrap_percentile(v, 3, -1, 10, 1, 0.95, &lo, &hi),
        BF_EINVAL);
    assert_int_equal(
        bf_stats_bootstrap_percentile(v, 3, 50, 10, 1, 1.0, &lo, &hi),
        BF_EINVAL);
    assert_int_equal(
        bf_stats_bootstrap_percentile(v, 3, 50, 10, 1, 0.0, &lo, &hi),
        BF_EINVAL);
    assert_int_equal(
        bf_stats_bootstrap_percentile(w, 3, 50, 10, 1, 0.95, &lo, &hi),
        BF_EINVAL);
    assert_int_equal(
        bf_stats_bootstrap_percentile(v, 3, 50, 10, 1, 0.95, NULL, &hi),
        BF_EINVAL);
}

static void test_stats_bootstrap_median_ratio_deterministic(void **state)
{
    double x[40], y[50];
    double lo1, hi1, lo2, hi2, lo3, hi3;

    (void)state;
    exp_sample(x, ARRAY_LEN(x), 1.0, 21);
    exp_sample(y, ARRAY_LEN(y), 1.5, 22);
    assert_int_equal(
        bf_stats_bootstrap_median_ratio(x, 40, y, 50, 400, 5, 0.95, &lo1, &hi1),
        0);
    assert_int_equal(
        bf_stats_bootstrap_median_ratio(x, 40, y, 50, 400, 5, 0.95, &lo2, &hi2),
        0);
    assert_float_equal(lo1, lo2, 0.0);
    assert_float_equal(hi1, hi2, 0.0);
    assert_int_equal(
        bf_stats_bootstrap_median_ratio(x, 40, y, 50, 400, 6, 0.95, &lo3, &hi3),
        0);
    assert_true(lo3 != lo1 || hi3 != hi1);
}

static void test_stats_bootstrap_median_ratio_contains_and_shrinks(void **state)
{
    static double x[1500], y[1500];
    double lo_small, hi_small, lo_big, hi_big;
    double est;

    (void)state;
    exp_sample(x, ARRAY_LEN(x), 1.0, 31);
    exp_sample(y, ARRAY_LEN(y), 2.0, 32);
    est = median_of(y, 40) / median_of(x, 30);
    assert_int_equal(bf_stats_bootstrap_median_ratio(
                         x, 30, y, 40, 1000, 9, 0.95, &lo_small, &hi_small),
                     0);
    assert_true(lo_small <= est && est <= hi_small);
    est = median_of(y, 1500) / median_of(x, 1500);
    assert_int_equal(bf_stats_bootstrap_median_ratio(x, 1500, y, 1500, 300, 9,
                                                     0.95, &lo_big, &hi_big),
                     0);
    assert_true(lo_big <= est && est <= hi_big);
    assert_true(hi_big - lo_big < 0.5 * (hi_small - lo_small));
}

/*
 * Coverage in a seeded simulation: y is x's distribution scaled by 2, so the
 * true ratio of medians is 2.
 */
static void test_stats_bootstrap_median_ratio_coverage(void **state)
{
    double x[50], y[70];
    int hits = 0;

    (void)state;
    for (int trial = 0; trial < 200; trial++) {
        double lo, hi;

        exp_sample(x, ARRAY_LEN(x), 1.0, 5000 + (uint64_t)trial);
        exp_sample(y, ARRAY_LEN(y), 2.0, 9000 + (uint64_t)trial);
        assert_int_equal(bf_stats_bootstrap_median_ratio(
                             x, ARRAY_LEN(x), y, ARRAY_LEN(y), 400,
                             (uint64_t)trial, 0.95, &lo, &hi),
                         0);
        hits += lo <= 2.0 && 2.0 <= hi;
    }
    print_message("bootstrap median ratio coverage %.3f\n", hits / 200.0);
    assert_true(hits >= 176 && hits <= 198);
}

static void test_stats_bootstrap_median_ratio_errors(void **state)
{
    const double x[] = {0, 0, 0, 1};
    const double y[] = {1, 2, 3};
    const double w[] = {1, NAN, 3};
    double lo = -1.0, hi = -1.0;

    (void)state;
    /* A resampled median of x of 0 leaves the ratio undefined. */
    assert_int_equal(
        bf_stats_bootstrap_median_ratio(x, 4, y, 3, 100, 1, 0.95, &lo, &hi),
        BF_ERANGE);
    assert_float_equal(lo, -1.0, 0.0);
    assert_true(strlen(bf_last_error()) > 0);
    assert_int_equal(
        bf_stats_bootstrap_median_ratio(NULL, 4, y, 3, 100, 1, 0.95, &lo, &hi),
        BF_EINVAL);
    assert_int_equal(
        bf_stats_bootstrap_median_ratio(y, 3, NULL, 3, 100, 1, 0.95, &lo, &hi),
        BF_EINVAL);
    assert_int_equal(
        bf_stats_bootstrap_median_ratio(y, 0, y, 3, 100, 1, 0.95, &lo, &hi),
        BF_EINVAL);
    assert_int_equal(
        bf_stats_bootstrap_median_ratio(y, 3, y, 0, 100, 1, 0.95, &lo, &hi),
        BF_EINVAL);
    assert_int_equal(
        bf_stats_bootstrap_median_ratio(y, 3, y, 3, 0, 1, 0.95, &lo, &hi),
        BF_EINVAL);
    assert_int_equal(
        bf_stats_bootstrap_median_ratio(y, 3, y, 3, 100, 1, 1.5, &lo, &hi),
        BF_EINVAL);
    assert_int_equal(
        bf_stats_bootstrap_median_ratio(y, 3, w, 3, 100, 1, 0.95, &lo, &hi),
        BF_EINVAL);
    assert_int_equal(
        bf_stats_bootstrap_median_ratio(y, 3, y, 3, 100, 1, 0.95, &lo, NULL),
        BF_EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_stats_known_values),
        cmocka_unit_test(test_stats_single_and_empty),
        cmocka_unit_test(test_stats_percentile_of_hundred),
        cmocka_unit_test(test_stats_normal_cdf_matches_scipy),
        cmocka_unit_test(test_stats_normal_quantile_matches_scipy),
        cmocka_unit_test(test_stats_normal_quantile_edges),
        cmocka_unit_test(test_stats_t_cdf_matches_scipy),
        cmocka_unit_test(test_stats_t_quantile_matches_scipy),
        cmocka_unit_test(test_stats_t_quantile_inverts_cdf_for_df_1_to_1000),
        cmocka_unit_test(test_stats_t_edges),
        cmocka_unit_test(test_stats_mcnemar_matches_statsmodels),
        cmocka_unit_test(test_stats_mcnemar_edges),
        cmocka_unit_test(test_stats_mann_whitney_matches_scipy),
        cmocka_unit_test(test_stats_mann_whitney_all_equal_is_one),
        cmocka_unit_test(test_stats_mann_whitney_keeps_inputs),
        cmocka_unit_test(test_stats_mann_whitney_bad_args),
        cmocka_unit_test(test_stats_holm_matches_statsmodels),
        cmocka_unit_test(test_stats_holm_in_place),
        cmocka_unit_test(test_stats_holm_bad_args),
        cmocka_unit_test(test_stats_wilson_matches_statsmodels),
        cmocka_unit_test(test_stats_wilson_bounds_at_zero_and_n),
        cmocka_unit_test(test_stats_wilson_bad_args),
        cmocka_unit_test(test_stats_t_interval_matches_scipy),
        cmocka_unit_test(test_stats_t_interval_single_value),
        cmocka_unit_test(test_stats_t_interval_bad_args),
        cmocka_unit_test(test_stats_bootstrap_percentile_deterministic),
        cmocka_unit_test(test_stats_bootstrap_percentile_contains_and_shrinks),
        cmocka_unit_test(test_stats_bootstrap_percentile_coverage),
        cmocka_unit_test(test_stats_bootstrap_percentile_bad_args),
        cmocka_unit_test(test_stats_bootstrap_median_ratio_deterministic),
        cmocka_unit_test(
            test_stats_bootstrap_median_ratio_contains_and_shrinks),
        cmocka_unit_test(test_stats_bootstrap_median_ratio_coverage),
        cmocka_unit_test(test_stats_bootstrap_median_ratio_errors),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
