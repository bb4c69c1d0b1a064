/*
 * cpsim.analysis._fastedges: strict compiled loops for the analyzer's per-sample and per-edge work.
 *
 * Why this exists: on long captures logged slowly (100 samples per PWM period, ~400 k edges in
 * 20 M samples) numpy spends its time on many small per-edge array operations, and at high
 * sample rates on separate boolean passes over the whole capture. Each function here is the
 * loop its numpy reference route in cpsim/analysis/edges.py (or measurement.py) runs, element
 * by element, with the same IEEE-754 double operations in the same order, so both routes give
 * the same numbers bit for bit; tests/test_analysis_speed_routes.py compares them on synthetic
 * captures. The numpy route stays the reference and runs whenever this extension is not built
 * (it is optional in setup.py).
 *
 *   span(v[, index, out])      -> (min, max, any_nan)         one pass instead of v.min(), v.max() and
 *                                                             the level subsample v[index]
 *   transitions(v, lo, hi, entry, exit, rising, capacity)
 *                              -> (n_hi, n_lo, kept)          find_transitions' Schmitt trigger
 *   short_monotonic(t, v, exit, entry, before, after, out_first, out_mid, out_last, quick, max_span)
 *                              -> timed                       edges._short_monotonic
 *   edge_peaks(v, exit, entry, rising, limit, settle, width, out) -> None   edges.edge_peaks
 *   edge_pass(t, v, exit, entry, before, after, first, mid, last, quick, max_span, rising, limit, settle,
 *             width, peak) -> timed                           the two above in one visit per edge
 *   interior_stats(v, starts, ends, min_count, mean, tilt) -> None      levels.interior_stats
 *   subsample(n, m, golden, out) -> None                      levels.subsample_index
 *   search_sorted(a, q, out) -> bool                          np.searchsorted of sorted queries, merged
 *   histogram(x, lo, inv_w, counts) -> top                    levels._histogram_peaks' bincount
 *   settled_pairs(x, delta, out) -> count                     levels._settled's selection
 *   cycle_columns(anchor, from_rising, ins, outs) -> None     pwm.measure_cycles' per-cycle columns
 *   edge_times(t, entry, exit, t_entry, t_exit) -> None       t[entry], t[exit] (pwm.plateau_layout)
 *   plateau_interiors(first, last, single, need_start, need_end, settle, nominal, a, b,
 *                     starts, ends, interior_start, interior_end) -> None   pwm.plateau_layout's interiors
 *
 * The GIL is released while a loop runs. Arrays are checked for type, contiguity and length;
 * indices are bounds-checked against the capture (a bad index raises ValueError, never reads
 * out of bounds).
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <string.h>
#if defined(__SSE2__) || defined(_M_X64)
#include <emmintrin.h>
#define HAVE_SSE2 1
#else
#define HAVE_SSE2 0
#endif
#if defined(__GNUC__)
#define PREFETCH(p) __builtin_prefetch(p)
#else
#define PREFETCH(p) ((void)0)
#endif

#if defined(__FAST_MATH__) || defined(_M_FP_FAST)
#error "_fastedges needs IEEE-754 arithmetic: build it without -ffast-math / -Ofast / /fp:fast"
#endif
#if defined(FLT_EVAL_METHOD) && FLT_EVAL_METHOD != 0
#error "_fastedges needs doubles rounded once per operation (FLT_EVAL_METHOD 0, e.g. SSE2)"
#endif

/* ---- buffers ---------------------------------------------------------------------------------- */

#define K_F64 0
#define K_I64 1
#define K_BOOL 2

static int get_buf(PyObject *obj, Py_buffer *b, int kind, int writable, const char *name) {
    int flags = PyBUF_C_CONTIGUOUS | PyBUF_FORMAT | (writable ? PyBUF_WRITABLE : 0);
    const char *f;
    if (PyObject_GetBuffer(obj, b, flags) < 0) return -1;
    f = b->format ? b->format : "B";
    if (*f == '=' || *f == '@' || *f == '<') f++;
    if (b->ndim > 1) goto bad;
    if (kind == K_F64 && b->itemsize == 8 && strcmp(f, "d") == 0) return 0;
    if (kind == K_I64 && b->itemsize == 8 && (strcmp(f, "q") == 0 || strcmp(f, "l") == 0)) return 0;
    if (kind == K_BOOL && b->itemsize == 1 && (strcmp(f, "?") == 0 || strcmp(f, "b") == 0 || strcmp(f, "B") == 0))
        return 0;
bad:
    PyBuffer_Release(b);
    PyErr_Format(PyExc_ValueError, "_fastedges: %s must be a 1-D contiguous %s array", name,
                 kind == K_F64 ? "float64" : (kind == K_I64 ? "int64" : "bool"));
    return -1;
}

static inline Py_ssize_t n_of(const Py_buffer *b) { return b->len / b->itemsize; }

/* ---- span ---------------------------------------------------------------------------------------- */

typedef struct {
    double lo, hi;
    int nan;
} Span;

/* min, max and "any NaN" of v[0:n] folded into *sp (min and max are exact in any order) */
static void span_block(const double *v, Py_ssize_t n, Span *sp) {
    Py_ssize_t i = 0;
    double lo = sp->lo, hi = sp->hi;
    int nan = sp->nan;
#if HAVE_SSE2
    if (n >= 8) {
        __m128d l0 = _mm_set1_pd(v[0]), l1 = l0, h0 = l0, h1 = l0, bad = _mm_setzero_pd();
        double lanes[2];
        for (; i + 4 <= n; i += 4) {
            __m128d a = _mm_loadu_pd(v + i), b = _mm_loadu_pd(v + i + 2);
            l0 = _mm_min_pd(l0, a);
            h0 = _mm_max_pd(h0, a);
            l1 = _mm_min_pd(l1, b);
            h1 = _mm_max_pd(h1, b);
            bad = _mm_or_pd(bad, _mm_or_pd(_mm_cmpunord_pd(a, a), _mm_cmpunord_pd(b, b)));
        }
        nan |= _mm_movemask_pd(bad) != 0;
        _mm_storeu_pd(lanes, _mm_min_pd(l0, l1));
        lo = lanes[0] < lo ? lanes[0] : lo;
        lo = lanes[1] < lo ? lanes[1] : lo;
        _mm_storeu_pd(lanes, _mm_max_pd(h0, h1));
        hi = lanes[0] > hi ? lanes[0] : hi;
        hi = lanes[1] > hi ? lanes[1] : hi;
    }
#endif
    for (; i < n; i++) {
        double a = v[i];
        lo = a < lo ? a : lo;
        hi = a > hi ? a : hi;
        nan |= a != a;
    }
    sp->lo = lo;
    sp->hi = hi;
    sp->nan = nan;
}

#define SPAN_BLOCK 4096

static PyObject *span(PyObject *self, PyObject *args) {
    PyObject *vo, *io = Py_None, *oo = Py_None;
    Py_buffer vb, ib, ob;
    Py_ssize_t n, m = 0, bad = -1;
    int take;
    Span sp;
    PyObject *result = NULL;
    (void)self;
    if (!PyArg_ParseTuple(args, "O|OO", &vo, &io, &oo)) return NULL;
    if (get_buf(vo, &vb, K_F64, 0, "v") < 0) return NULL;
    take = io != Py_None;
    n = n_of(&vb);
    if (take) {
        if (get_buf(io, &ib, K_I64, 0, "index") < 0) goto r0;
        if (get_buf(oo, &ob, K_F64, 1, "out") < 0) goto r1;
        m = n_of(&ib);
        if (n_of(&ob) != m) {
            PyErr_SetString(PyExc_ValueError, "_fastedges.span: index and out differ in length");
            goto r2;
        }
    }
    if (n < 1) {
        PyErr_SetString(PyExc_ValueError, "_fastedges.span: empty array");
        goto r2;
    }
    Py_BEGIN_ALLOW_THREADS
    {
        /* one pass: min/max block by block, and the subsample points of each block while it is in cache */
        const double *v = (const double *)vb.buf;
        const int64_t *idx = take ? (const int64_t *)ib.buf : NULL;
        double *out = take ? (double *)ob.buf : NULL;
        Py_ssize_t i0, j = 0;
        int64_t prev = 0;
        sp.lo = sp.hi = v[0];
        sp.nan = v[0] != v[0];
        for (i0 = 0; i0 < n; i0 += SPAN_BLOCK) {
            Py_ssize_t len = n - i0 < SPAN_BLOCK ? n - i0 : SPAN_BLOCK;
            span_block(v + i0, len, &sp);
            for (; j < m && idx[j] < i0 + len; j++) {
                if (idx[j] < prev) {   /* sorted, and (with the loop bound) inside the capture */
                    bad = j;
                    break;
                }
                prev = idx[j];
                out[j] = v[idx[j]];
            }
            if (bad >= 0) break;
        }
        if (bad < 0 && j < m) bad = j;   /* an index past the end */
    }
    Py_END_ALLOW_THREADS
    if (bad >= 0)
        PyErr_Format(PyExc_ValueError, "_fastedges.span: index %zd is not sorted inside the capture", bad);
    else
        result = Py_BuildValue("ddO", sp.lo, sp.hi, sp.nan ? Py_True : Py_False);
r2:
    if (take) PyBuffer_Release(&ob);
r1:
    if (take) PyBuffer_Release(&ib);
r0:
    PyBuffer_Release(&vb);
    return result;
}

/* ---- transitions ------------------------------------------------------------------------------- */

/* The first index >= i where (v > hi_v, v < lo_v) differs from (ph, pl), or n. Eight samples at a
 * time while they stay in their band (a pilot's plateaus: nearly every sample). */
static Py_ssize_t skip_same(const double *v, Py_ssize_t i, Py_ssize_t n, int ph, int pl, double hi_v, double lo_v) {
#if HAVE_SSE2
    const __m128d vh = _mm_set1_pd(hi_v), vl = _mm_set1_pd(lo_v);
#define LOAD4 __m128d a0 = _mm_loadu_pd(v + i), a1 = _mm_loadu_pd(v + i + 2), a2 = _mm_loadu_pd(v + i + 4), \
                      a3 = _mm_loadu_pd(v + i + 6)
#define ANY4(f) (_mm_movemask_pd(_mm_or_pd(_mm_or_pd(f(a0), f(a1)), _mm_or_pd(f(a2), f(a3)))) != 0)
#define LEFT_HIGH(a) _mm_cmpngt_pd(a, vh)   /* not above the band (NaN included): left the high band */
#define LEFT_LOW(a) _mm_cmpnlt_pd(a, vl)
#define LEFT_MID(a) _mm_or_pd(_mm_cmpgt_pd(a, vh), _mm_cmplt_pd(a, vl))
    if (ph) {
        for (; i + 8 <= n; i += 8) {
            LOAD4;
            if (ANY4(LEFT_HIGH)) break;
        }
    } else if (pl) {
        for (; i + 8 <= n; i += 8) {
            LOAD4;
            if (ANY4(LEFT_LOW)) break;
        }
    } else {
        for (; i + 8 <= n; i += 8) {
            LOAD4;
            if (ANY4(LEFT_MID)) break;
        }
    }
#undef LOAD4
#undef ANY4
#undef LEFT_HIGH
#undef LEFT_LOW
#undef LEFT_MID
#endif
    for (; i < n; i++) {
        double x = v[i];
        if ((x > hi_v) != ph || (x < lo_v) != pl) break;
    }
    return i;
}

static PyObject *transitions(PyObject *self, PyObject *args) {
    PyObject *vo, *eno, *exo, *ro;
    Py_buffer vb, enb, exb, rb;
    double lo_v, hi_v;
    Py_ssize_t capacity, n, n_hi = 0, n_lo = 0, kept = 0;
    PyObject *result = NULL;
    (void)self;
    if (!PyArg_ParseTuple(args, "OddOOOn", &vo, &lo_v, &hi_v, &eno, &exo, &ro, &capacity)) return NULL;
    if (get_buf(vo, &vb, K_F64, 0, "v") < 0) return NULL;
    if (get_buf(eno, &enb, K_I64, 1, "entry") < 0) goto r0;
    if (get_buf(exo, &exb, K_I64, 1, "exit") < 0) goto r1;
    if (get_buf(ro, &rb, K_BOOL, 1, "rising") < 0) goto r2;
    n = n_of(&vb);
    if (capacity < 0 || capacity > n_of(&enb) || capacity > n_of(&exb) || capacity > n_of(&rb) || n < 1) {
        PyErr_SetString(PyExc_ValueError, "_fastedges.transitions: outputs smaller than the capacity");
        goto r3;
    }
    Py_BEGIN_ALLOW_THREADS
    {
        const double *v = (const double *)vb.buf;
        int64_t *entry = (int64_t *)enb.buf, *exit_ = (int64_t *)exb.buf;
        unsigned char *rising = (unsigned char *)rb.buf;
        int ph = v[0] > hi_v, pl = v[0] < lo_v;
        int state = ph ? 1 : (pl ? -1 : 0);
        int skip_first = state == 0;   /* entering the first band from the middle is not an edge */
        int64_t last_hi_exit = -1, last_lo_exit = -1;
        Py_ssize_t i = 1;
        while (i < n) {
            double x;
            int h, l, s;
            i = skip_same(v, i, n, ph, pl, hi_v, lo_v);   /* to the next sample that leaves its band */
            if (i >= n) break;
            x = v[i];
            h = x > hi_v;
            l = x < lo_v;
            /* exits first: a jump across the whole band leaves one band and enters the other at once */
            if (h != ph) {
                n_hi++;
                if (!h) last_hi_exit = i - 1;
            }
            if (l != pl) {
                n_lo++;
                if (!l) last_lo_exit = i - 1;
            }
            s = (h && !ph) ? 1 : ((l && !pl) ? -1 : 0);
            ph = h;
            pl = l;
            if (s != 0 && s != state) {
                state = s;
                if (skip_first) {
                    skip_first = 0;
                } else {
                    if (kept < capacity) {
                        entry[kept] = i;
                        exit_[kept] = s > 0 ? last_lo_exit : last_hi_exit;
                        rising[kept] = s > 0;
                    }
                    kept++;
                }
            }
            i++;
        }
    }
    Py_END_ALLOW_THREADS
    result = Py_BuildValue("nnn", n_hi, n_lo, kept);
r3:
    PyBuffer_Release(&rb);
r2:
    PyBuffer_Release(&exb);
r1:
    PyBuffer_Release(&enb);
r0:
    PyBuffer_Release(&vb);
    return result;
}

/* ---- short monotonic edges and edge peaks ----------------------------------------------------------- */

#define MAX_SPAN 64
#define PF 16

/* edges._short_monotonic for one edge: 1 and its three instants when it is a short monotonic edge, 0 when
 * it is not (outputs untouched), -1 when it lies outside the capture */
static inline int time_quick(const double *t, const double *v, Py_ssize_t n, int64_t e0, int64_t e1, double lb,
                             double la, int max_span, double *first, double *mid, double *last) {
    static const double fr[3] = {0.1, 0.5, 0.9};
    double *outs[3] = {first, mid, last};
    const int64_t cols = max_span + 1, span = e1 - e0;
    double x[MAX_SPAN + 1], sign, l0, l1, swing;
    int64_t c;
    int mono = 1, f;
    if (span < 1 || span > max_span) return 0;
    if (e0 < 0 || e0 + span > n - 1) return -1;   /* never read outside the capture */
    /* as the numpy route: every edge made rising, the row x = v[exit + c] * sign for the max_span + 1
     * columns c, +inf past the entry sample (the loops run over every column and mask) */
    sign = la >= lb ? 1.0 : -1.0;
    l0 = lb * sign;
    l1 = la * sign;
    swing = l1 - l0;
    for (c = 0; c < cols; c++) {
        int64_t i = e0 + c < n - 1 ? e0 + c : n - 1;
        double xc = v[i] * sign;
        x[c] = c <= span ? xc : INFINITY;
    }
    for (c = 1; c < cols; c++) mono &= (c > span) | ((x[c] - x[c - 1]) >= 0);
    if (!(mono && swing > 0 && x[0] <= l0 + 0.1 * swing && x[span] >= l0 + 0.9 * swing)) return 0;
    /* from here the levels are finite (an infinite level fails one of the tests above), so the +inf
     * padding counts below none of them, and x[0] <= 10 % and x[span] >= 90 % put every crossing step
     * [i0, i0 + 1] inside [e0, e0 + span] */
    for (f = 0; f < 3; f++) {
        double level = l0 + fr[f] * swing, a, bb, frac;
        int64_t below = 0, i0;
        if (f == 2)
            for (c = 0; c < cols; c++) below += x[c] < level;
        else
            for (c = 0; c < cols; c++) below += x[c] <= level;
        i0 = e0 + below - 1;             /* the step [i0, i0 + 1] that crosses the level */
        a = x[below - 1];                /* = v[i0] * sign */
        bb = x[below];
        frac = (level - a) / (bb - a);
        frac = frac < 0.0 ? 0.0 : (frac > 1.0 ? 1.0 : frac);
        *outs[f] = t[i0] + frac * (t[i0 + 1] - t[i0]);
    }
    return 1;
}

/* edges.edge_peaks for one edge: the columns c < width of v[min(start + c, n - 1)] with
 * c <= min(entry + settle, limit, n - 1) - start, their maximum (rising) or minimum; a NaN among them
 * propagates, as np.max / np.min do. -1 when the edge lies outside the capture. */
static inline int peak_of(const double *v, Py_ssize_t n, int64_t start, int64_t entry, int64_t limit,
                          Py_ssize_t settle, Py_ssize_t width, int up, double *out) {
    int64_t stop = entry + settle, last, c;
    double hi = -INFINITY, lo = INFINITY;
    int nan = 0;
    if (limit < stop) stop = limit;
    if (n - 1 < stop) stop = n - 1;
    if (start < 0 || start > n - 1) return -1;
    last = stop - start;
    if (last > width - 1) last = width - 1;
    for (c = 0; c < width; c++) {
        int64_t i = start + c < n - 1 ? start + c : n - 1;
        double x = v[i];
        int in = c <= last;
        nan |= in & (x != x);
        hi = (in && x > hi) ? x : hi;
        lo = (in && x < lo) ? x : lo;
    }
    *out = nan ? NAN : (up ? hi : lo);
    return 0;
}

/* the common arguments of the three edge loops */
enum { A_T, A_V, A_EXIT, A_ENTRY, A_BEFORE, A_AFTER, A_FIRST, A_MID, A_LAST, A_QUICK, A_RISING, A_LIMIT, A_PEAK, A_N };
static const int edge_kinds[A_N] = {K_F64, K_F64, K_I64, K_I64, K_F64, K_F64, K_F64, K_F64, K_F64, K_BOOL, K_BOOL,
                                    K_I64, K_F64};
static const int edge_writable[A_N] = {0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 0, 0, 1};
static const char *edge_names[A_N] = {"t", "v", "exit", "entry", "before", "after", "first", "mid", "last",
                                      "quick", "rising", "limit", "peak"};

/* timing (when ``time``) and peaks (when ``peaks``) of every edge, one visit per edge */
static PyObject *edge_loop(PyObject **o, int time, int peaks, int max_span, Py_ssize_t settle, Py_ssize_t width,
                           const char *fname) {
    Py_buffer b[A_N];
    int used[A_N] = {0}, k;
    Py_ssize_t n = 0, m = -1, j, bad = -1, timed = 0;
    PyObject *result = NULL;
    for (k = 0; k < A_N; k++) {
        int need = k == A_V || k == A_EXIT || k == A_ENTRY
                   || (time && (k == A_T || (k >= A_BEFORE && k <= A_QUICK)))
                   || (peaks && (k == A_RISING || k == A_LIMIT || k == A_PEAK));
        if (!need) continue;
        if (get_buf(o[k], &b[k], edge_kinds[k], edge_writable[k], edge_names[k]) < 0) goto done;
        used[k] = 1;
        if (k == A_V) n = n_of(&b[k]);
        else if (k != A_T) {
            if (m < 0) m = n_of(&b[k]);
            if (n_of(&b[k]) != m) goto args;
        }
    }
    if (n < 1 || (time && (n_of(&b[A_T]) != n || max_span < 1 || max_span > MAX_SPAN)) || (peaks && width < 1))
        goto args;
    Py_BEGIN_ALLOW_THREADS
    {
        const double *t = time ? (const double *)b[A_T].buf : NULL, *v = (const double *)b[A_V].buf;
        const int64_t *ex = (const int64_t *)b[A_EXIT].buf, *en = (const int64_t *)b[A_ENTRY].buf;
        for (j = 0; j < m; j++) {
            if (j + PF < m && ex[j + PF] >= 0 && ex[j + PF] < n) {   /* edges lie far apart: fetch ahead */
                PREFETCH(v + ex[j + PF]);
                if (time) PREFETCH(t + ex[j + PF]);
            }
            if (time) {
                int r = time_quick(t, v, n, ex[j], en[j], ((const double *)b[A_BEFORE].buf)[j],
                                   ((const double *)b[A_AFTER].buf)[j], max_span, (double *)b[A_FIRST].buf + j,
                                   (double *)b[A_MID].buf + j, (double *)b[A_LAST].buf + j);
                if (r < 0) {
                    bad = j;
                    break;
                }
                ((unsigned char *)b[A_QUICK].buf)[j] = (unsigned char)r;
                timed += r;
            }
            if (peaks && peak_of(v, n, ex[j], en[j], ((const int64_t *)b[A_LIMIT].buf)[j], settle, width,
                                 ((const unsigned char *)b[A_RISING].buf)[j], (double *)b[A_PEAK].buf + j) < 0) {
                bad = j;
                break;
            }
        }
    }
    Py_END_ALLOW_THREADS
    if (bad >= 0) {
        PyErr_Format(PyExc_ValueError, "_fastedges.%s: edge %zd lies outside the capture", fname, bad);
        goto done;
    }
    result = PyLong_FromSsize_t(timed);
    goto done;
args:
    PyErr_Format(PyExc_ValueError, "_fastedges.%s: arrays of unequal length or bad sizes", fname);
done:
    for (k = 0; k < A_N; k++)
        if (used[k]) PyBuffer_Release(&b[k]);
    return result;
}

static PyObject *short_monotonic(PyObject *self, PyObject *args) {
    PyObject *o[A_N] = {NULL};
    int max_span;
    (void)self;
    if (!PyArg_ParseTuple(args, "OOOOOOOOOOi", &o[A_T], &o[A_V], &o[A_EXIT], &o[A_ENTRY], &o[A_BEFORE],
                          &o[A_AFTER], &o[A_FIRST], &o[A_MID], &o[A_LAST], &o[A_QUICK], &max_span))
        return NULL;
    return edge_loop(o, 1, 0, max_span, 0, 0, "short_monotonic");
}

static PyObject *edge_peaks(PyObject *self, PyObject *args) {
    PyObject *o[A_N] = {NULL}, *res;
    Py_ssize_t settle, width;
    (void)self;
    if (!PyArg_ParseTuple(args, "OOOOOnnO", &o[A_V], &o[A_EXIT], &o[A_ENTRY], &o[A_RISING], &o[A_LIMIT], &settle,
                          &width, &o[A_PEAK]))
        return NULL;
    res = edge_loop(o, 0, 1, 1, settle, width, "edge_peaks");
    if (res == NULL) return NULL;
    Py_DECREF(res);
    Py_RETURN_NONE;
}

static PyObject *edge_pass(PyObject *self, PyObject *args) {
    PyObject *o[A_N] = {NULL};
    int max_span;
    Py_ssize_t settle, width;
    (void)self;
    if (!PyArg_ParseTuple(args, "OOOOOOOOOOiOOnnO", &o[A_T], &o[A_V], &o[A_EXIT], &o[A_ENTRY], &o[A_BEFORE],
                          &o[A_AFTER], &o[A_FIRST], &o[A_MID], &o[A_LAST], &o[A_QUICK], &max_span, &o[A_RISING],
                          &o[A_LIMIT], &settle, &width, &o[A_PEAK]))
        return NULL;
    return edge_loop(o, 1, 1, max_span, settle, width, "edge_pass");
}

/* ---- interior sums ----------------------------------------------------------------------------- */

/* Adding -0.0 changes no double (x + -0.0 == x for every x, -0.0 and NaN included), so a fixed number of
 * additions with the unused ones masked to -0.0 adds exactly what a loop of the exact length adds, in the
 * same order, without a branch that depends on the length (mispredicted on every short segment). Reads
 * are clamped to the last sample; what they read there is masked. */
#define MASKED(v, i, ok, last) ((ok) ? (v)[(i) < (last) ? (i) : (last)] : -0.0)

/* pairwise_sum of v[at : at + n] for 8 <= n <= 128, its last few additions masked */
static inline double pairwise_block(const double *v, int64_t at, Py_ssize_t n, int64_t last) {
    const double *a = v + at;
    double r[8], res;
    Py_ssize_t i;
    int j;
    for (j = 0; j < 8; j++) r[j] = a[j];
    for (i = 8; i < n - (n % 8); i += 8)
        for (j = 0; j < 8; j++) r[j] += a[i + j];
    res = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]));
    for (j = 0; j < 7; j++) res += MASKED(v, at + i + j, i + j < n, last);   /* the rest: n % 8 < 8 values */
    return res;
}

/* numpy's pairwise summation of n doubles (numpy/_core/src/umath/loops_utils.h.src, unchanged since
 * numpy 1.9): below 8 a plain loop from -0.0, up to 128 eight accumulators, above that two halves
 * split at a multiple of 8. np.add.reduce and np.add.reduceat add it to the segment's first value.
 * levels._compiled_stats checks once per process that this numpy still adds that way. */
static double pairwise_sum(const double *a, Py_ssize_t n) {
    if (n < 8) {
        double res = -0.0;
        Py_ssize_t i;
        for (i = 0; i < n; i++) res += a[i];
        return res;
    } else if (n <= 128) {
        double r[8], res;
        Py_ssize_t i;
        int j;
        for (j = 0; j < 8; j++) r[j] = a[j];
        for (i = 8; i < n - (n % 8); i += 8)
            for (j = 0; j < 8; j++) r[j] += a[i + j];
        res = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]));
        for (; i < n; i++) res += a[i];
        return res;
    } else {
        Py_ssize_t n2 = n / 2;
        n2 -= n2 % 8;
        return pairwise_sum(a, n2) + pairwise_sum(a + n2, n - n2);
    }
}

/* np.add.reduceat(v, idx)[i] for idx[i] = a, idx[i + 1] = b (both already clipped to last = n - 1):
 * v[a] + pairwise(v[a + 1 : b]), or v[a] alone for a >= b */
static inline double segment_sum(const double *v, int64_t a, int64_t b, int64_t last) {
    int64_t n = b - a - 1, i;
    if (n < 8) {   /* the plain loop from -0.0, as a fixed 7 masked additions */
        double res = -0.0;
        for (i = 0; i < 7; i++) res += MASKED(v, a + 1 + i, i < n, last);
        return v[a] + res;
    }
    if (n <= 128) return v[a] + pairwise_block(v, a + 1, (Py_ssize_t)n, last);
    return v[a] + pairwise_sum(v + a + 1, (Py_ssize_t)n);
}

/* The sums of an interior's three thirds as np.add.reduceat adds them (its four bounds, clipped to the
 * capture as the reference route clips them), 0 for an empty third. */
static inline void third_sums(const double *v, Py_ssize_t n, int64_t st, int64_t en, double sum[3],
                              int64_t cnt[3]) {
    int64_t len = en - st, bd[4], c, last = n - 1;
    bd[0] = st;
    bd[1] = st + len / 3;
    bd[2] = st + (2 * len) / 3;
    bd[3] = en;
    for (c = 0; c < 3; c++) cnt[c] = bd[c + 1] - bd[c];
    if (bd[3] <= last && len <= 24) {
        /* thirds of at most 8 samples: the three plain loops in lockstep, so their chains of dependent
         * additions overlap (each one's order unchanged) */
        double r[3] = {-0.0, -0.0, -0.0};
        int64_t i;
        for (i = 1; i < 8; i++)
            for (c = 0; c < 3; c++) r[c] += MASKED(v, bd[c] + i, i < cnt[c], last);
        for (c = 0; c < 3; c++) sum[c] = cnt[c] ? v[bd[c]] + r[c] : 0.0;
        return;
    }
    for (c = 0; c < 4; c++) bd[c] = bd[c] < last ? bd[c] : last;   /* as np.minimum(flat, n - 1) */
    for (c = 0; c < 3; c++) sum[c] = cnt[c] ? segment_sum(v, bd[c], bd[c + 1], last) : 0.0;
}

static PyObject *interior_stats(PyObject *self, PyObject *args) {
    PyObject *o[5];
    Py_buffer b[5];
    static const int kinds[5] = {K_F64, K_I64, K_I64, K_F64, K_F64};
    static const int wr[5] = {0, 0, 0, 1, 1};
    static const char *names[5] = {"v", "starts", "ends", "mean", "tilt"};
    Py_ssize_t n, m, j, bad = -1, min_count;
    int got = 0, k;
    PyObject *result = NULL;
    (void)self;
    if (!PyArg_ParseTuple(args, "OOOnOO", &o[0], &o[1], &o[2], &min_count, &o[3], &o[4])) return NULL;
    for (got = 0; got < 5; got++)
        if (get_buf(o[got], &b[got], kinds[got], wr[got], names[got]) < 0) goto done;
    n = n_of(&b[0]);
    m = n_of(&b[1]);
    if (n < 1 || n_of(&b[2]) != m || n_of(&b[3]) != m || n_of(&b[4]) != m) {
        PyErr_SetString(PyExc_ValueError, "_fastedges.interior_stats: arrays of unequal length");
        goto done;
    }
    if (min_count < 1) min_count = 1;
    Py_BEGIN_ALLOW_THREADS
    {
        const double *v = (const double *)b[0].buf;
        const int64_t *st = (const int64_t *)b[1].buf, *en = (const int64_t *)b[2].buf;
        double *mean = (double *)b[3].buf, *tilt = (double *)b[4].buf;
        for (j = 0; j < m; j++) {
            double sum[3], th[3];
            int64_t cnt[3], len = en[j] - st[j];
            int c;
            if (len < 0 || st[j] < 0) {
                bad = j;
                break;
            }
            if (j + PF < m) {   /* interiors lie apart: fetch the lines of one a few interiors ahead */
                int64_t p0 = st[j + PF], p1 = en[j + PF] < n ? en[j + PF] : n;
                for (; p0 >= 0 && p0 < p1; p0 += 8) PREFETCH(v + p0);
            }
            third_sums(v, n, st[j], en[j], sum, cnt);
            /* as the reference route: thirds = sums / counts (0 / 0: NaN), mean = (s0 + s1 + s2) / count */
            for (c = 0; c < 3; c++) th[c] = sum[c] / (double)cnt[c];
            mean[j] = len >= min_count ? ((sum[0] + sum[1]) + sum[2]) / (double)len : NAN;
            tilt[j] = len >= 3 ? fmax(fmax(th[0], th[1]), th[2]) - fmin(fmin(th[0], th[1]), th[2]) : NAN;
        }
    }
    Py_END_ALLOW_THREADS
    if (bad >= 0) {
        PyErr_Format(PyExc_ValueError, "_fastedges.interior_stats: interior %zd is not [start, end) with start <= end",
                     bad);
        goto done;
    }
    result = Py_None;
    Py_INCREF(result);
done:
    for (k = 0; k < got; k++) PyBuffer_Release(&b[k]);
    return result;
}

/* ---- plateau interiors ------------------------------------------------------------------------------ */

static inline int64_t clip64(int64_t x, int64_t lo, int64_t hi) {   /* np.clip: min(max(x, lo), hi) */
    x = x > lo ? x : lo;
    return x < hi ? x : hi;
}

static PyObject *plateau_interiors(PyObject *self, PyObject *args) {
    PyObject *o[9];
    Py_buffer b[9];
    static const int kinds[9] = {K_I64, K_I64, K_BOOL, K_BOOL, K_BOOL, K_I64, K_I64, K_I64, K_I64};
    static const int wr[9] = {0, 0, 0, 0, 0, 1, 1, 1, 1};
    static const char *names[9] = {"first", "last", "single", "need_start", "need_end", "starts", "ends",
                                   "interior_start", "interior_end"};
    Py_ssize_t p, rows, j, r = 0, wanted = 0;
    long long settle, nominal;
    double fa, fb;
    int got = 0, k;
    PyObject *result = NULL;
    (void)self;
    if (!PyArg_ParseTuple(args, "OOOOOLLddOOOO", &o[0], &o[1], &o[2], &o[3], &o[4], &settle, &nominal, &fa, &fb,
                          &o[5], &o[6], &o[7], &o[8]))
        return NULL;
    for (got = 0; got < 9; got++)
        if (get_buf(o[got], &b[got], kinds[got], wr[got], names[got]) < 0) goto done;
    p = n_of(&b[0]);
    rows = n_of(&b[5]);
    for (k = 1; k < 9; k++)
        if (k != 5 && k != 6 && n_of(&b[k]) != p) goto args;
    if (n_of(&b[6]) != rows) goto args;
    Py_BEGIN_ALLOW_THREADS
    {
        const int64_t *first = (const int64_t *)b[0].buf, *last = (const int64_t *)b[1].buf;
        const unsigned char *single = (const unsigned char *)b[2].buf, *need_s = (const unsigned char *)b[3].buf,
                            *need_e = (const unsigned char *)b[4].buf;
        int64_t *starts = (int64_t *)b[5].buf, *ends = (int64_t *)b[6].buf;
        int64_t *int_s = (int64_t *)b[7].buf, *int_e = (int64_t *)b[8].buf;
        for (j = 0; j < p; j++) {
            /* plateau_layout's numpy expressions, element by element */
            int64_t f = first[j], l = last[j], length = l - f + 1, lm, ls, s0, e0, hi = l + 1;
            int has_start = need_s[j] || single[j];
            lm = (need_s[j] && need_e[j]) ? length / 2 : length;
            lm = lm < nominal ? lm : (int64_t)nominal;
            ls = single[j] ? length : lm;
            int_s[j] = int_e[j] = -1;
            wanted += has_start + (need_e[j] != 0);
            if (has_start && r < rows) {
                int64_t c = (int64_t)ceil(fa * (double)ls);
                s0 = f + (c > settle ? c : (int64_t)settle);
                e0 = f + (int64_t)floor(fb * (double)ls);
                if (single[j] && e0 - s0 < 3) {   /* a coarse plateau */
                    int64_t trim = length >= 3;
                    s0 = f + trim;
                    e0 = l + 1 - trim;
                }
                starts[r] = clip64(s0, f, hi);
                ends[r] = clip64(e0, starts[r], hi);
                int_s[j] = r++;
            }
            if (need_e[j] && r < rows) {
                int64_t base = l + 1 - lm;
                starts[r] = clip64(base + (int64_t)ceil(fa * (double)lm), f, hi);
                ends[r] = clip64(base + (int64_t)floor(fb * (double)lm), starts[r], hi);
                int_e[j] = r++;
            }
            if (single[j]) int_e[j] = int_s[j];
        }
    }
    Py_END_ALLOW_THREADS
    if (wanted != rows) {
        PyErr_SetString(PyExc_ValueError, "_fastedges.plateau_interiors: rows differ from the interiors asked for");
        goto done;
    }
    result = Py_None;
    Py_INCREF(result);
    goto done;
args:
    PyErr_SetString(PyExc_ValueError, "_fastedges.plateau_interiors: arrays of unequal length");
done:
    for (k = 0; k < got; k++) PyBuffer_Release(&b[k]);
    return result;
}

/* ---- subsample index -------------------------------------------------------------------------------- */

static PyObject *subsample(PyObject *self, PyObject *args) {
    PyObject *oo;
    Py_buffer ob;
    long long n, m, golden;
    (void)self;
    if (!PyArg_ParseTuple(args, "LLLO", &n, &m, &golden, &oo)) return NULL;
    if (get_buf(oo, &ob, K_I64, 1, "out") < 0) return NULL;
    /* k (n - 1) must fit in int64, as in the numpy route */
    if (m < 1 || n < 2 || golden < 0 || golden >= (1LL << 20) || n_of(&ob) != 2 * m || (n - 1) > INT64_MAX / m) {
        PyBuffer_Release(&ob);
        PyErr_SetString(PyExc_ValueError, "_fastedges.subsample: bad arguments");
        return NULL;
    }
    Py_BEGIN_ALLOW_THREADS
    {
        /* levels.subsample_index: pair k starts at (k (n-1)) // m + ((frac(k golden) ((n-1) // m - 1)) >> 20);
         * the quotient is stepped exactly (quotient and remainder), no division per pair */
        int64_t *out = (int64_t *)ob.buf;
        int64_t step_q = (int64_t)((n - 1) / m), step_r = (int64_t)((n - 1) % m), q = 0, r = 0, k;
        int64_t spread = step_q - 1;
        for (k = 0; k < m; k++) {
            int64_t jitter = (k * (int64_t)golden) & ((1 << 20) - 1);
            int64_t first = q + ((jitter * spread) >> 20);
            out[2 * k] = first;
            out[2 * k + 1] = first + 1;
            q += step_q;
            r += step_r;
            if (r >= m) {
                r -= m;
                q++;
            }
        }
    }
    Py_END_ALLOW_THREADS
    PyBuffer_Release(&ob);
    Py_RETURN_NONE;
}

/* ---- sorted search --------------------------------------------------------------------------------- */

static PyObject *search_sorted(PyObject *self, PyObject *args) {
    PyObject *o[3];
    Py_buffer b[3];
    static const int kinds[3] = {K_I64, K_I64, K_I64};
    static const int wr[3] = {0, 0, 1};
    static const char *names[3] = {"a", "q", "out"};
    Py_ssize_t na, nq, j;
    int got = 0, k, sorted = 1;
    PyObject *result = NULL;
    (void)self;
    if (!PyArg_ParseTuple(args, "OOO", &o[0], &o[1], &o[2])) return NULL;
    for (got = 0; got < 3; got++)
        if (get_buf(o[got], &b[got], kinds[got], wr[got], names[got]) < 0) goto done;
    na = n_of(&b[0]);
    nq = n_of(&b[1]);
    if (n_of(&b[2]) != nq) {
        PyErr_SetString(PyExc_ValueError, "_fastedges.search_sorted: q and out differ in length");
        goto done;
    }
    Py_BEGIN_ALLOW_THREADS
    {
        /* np.searchsorted(a, q) (side "left") for sorted a and q: one merge, O(len(a) + len(q)) */
        const int64_t *a = (const int64_t *)b[0].buf, *q = (const int64_t *)b[1].buf;
        int64_t *out = (int64_t *)b[2].buf;
        Py_ssize_t p = 0;
        for (j = 0; j < nq && sorted; j++) {
            if (j && q[j] < q[j - 1]) sorted = 0;
            while (p < na && a[p] < q[j]) {
                if (p && a[p] < a[p - 1]) sorted = 0;
                p++;
            }
            out[j] = p;
        }
    }
    Py_END_ALLOW_THREADS
    result = sorted ? Py_True : Py_False;
    Py_INCREF(result);
done:
    for (k = 0; k < got; k++) PyBuffer_Release(&b[k]);
    return result;
}

/* ---- level histogram --------------------------------------------------------------------------------- */

static PyObject *histogram(PyObject *self, PyObject *args) {
    PyObject *xo, *co;
    Py_buffer xb, cb;
    double lo, inv_w;
    Py_ssize_t n, cap, top = -1, bad = -1;
    PyObject *result = NULL;
    (void)self;
    if (!PyArg_ParseTuple(args, "OddO", &xo, &lo, &inv_w, &co)) return NULL;
    if (get_buf(xo, &xb, K_F64, 0, "x") < 0) return NULL;
    if (get_buf(co, &cb, K_I64, 1, "counts") < 0) goto r0;
    n = n_of(&xb);
    cap = n_of(&cb);
    Py_BEGIN_ALLOW_THREADS
    {
        /* np.bincount(((x - lo) * inv_w).astype(np.intp)): the bin of each value, truncated toward 0 */
        const double *x = (const double *)xb.buf;
        int64_t *counts = (int64_t *)cb.buf;
        Py_ssize_t i;
        memset(counts, 0, (size_t)cap * sizeof(int64_t));
        for (i = 0; i < n; i++) {
            double f = (x[i] - lo) * inv_w;
            int64_t bin;
            if (!(f >= 0.0 && f < (double)cap)) {   /* below 0, NaN, or past the counts given */
                bad = i;
                break;
            }
            bin = (int64_t)f;
            counts[bin]++;
            if (bin > top) top = bin;
        }
    }
    Py_END_ALLOW_THREADS
    result = bad >= 0 ? Py_BuildValue("n", (Py_ssize_t)-1) : Py_BuildValue("n", top);
    PyBuffer_Release(&cb);
r0:
    PyBuffer_Release(&xb);
    return result;
}

/* ---- settled pairs ----------------------------------------------------------------------------------- */

static PyObject *settled_pairs(PyObject *self, PyObject *args) {
    PyObject *xo, *oo;
    Py_buffer xb, ob;
    double delta;
    Py_ssize_t k, count = 0;
    PyObject *result = NULL;
    (void)self;
    if (!PyArg_ParseTuple(args, "OdO", &xo, &delta, &oo)) return NULL;
    if (get_buf(xo, &xb, K_F64, 0, "x") < 0) return NULL;
    if (get_buf(oo, &ob, K_F64, 1, "out") < 0) goto r0;
    k = n_of(&xb) / 2;
    if (n_of(&ob) < 2 * k) {
        PyErr_SetString(PyExc_ValueError, "_fastedges.settled_pairs: out is shorter than x");
        goto r1;
    }
    Py_BEGIN_ALLOW_THREADS
    {
        /* levels._settled: the pairs (x[2i], x[2i+1]) with |x[2i+1] - x[2i]| < delta, as
         * np.concatenate((a[ok], b[ok])): their first points, then their second points */
        const double *x = (const double *)xb.buf;
        double *out = (double *)ob.buf;
        Py_ssize_t i, c = 0;
        for (i = 0; i < k; i++) {
            double a = x[2 * i], b = x[2 * i + 1];
            out[c] = a;
            c += fabs(b - a) < delta;
        }
        count = c;
        c = 0;
        for (i = 0; i < k; i++) {
            double a = x[2 * i], b = x[2 * i + 1];
            if (c < count) out[count + c] = b;   /* the slot after the last one is never written */
            c += fabs(b - a) < delta;
        }
    }
    Py_END_ALLOW_THREADS
    result = PyLong_FromSsize_t(count);
r1:
    PyBuffer_Release(&ob);
r0:
    PyBuffer_Release(&xb);
    return result;
}

/* ---- cycle columns ----------------------------------------------------------------------------------- */

enum { C_TMID, C_INTSTART, C_MEAN, C_TILT, C_TFIRST, C_TLAST, C_PEAK, C_BAND, C_SHARP, C_FIRST, C_LAST, C_NIN };
enum { O_T0, O_PERIOD, O_DUTY, O_VHIGH, O_VLOW, O_RISE, O_FALL, O_OVER, O_UNDER, O_TILT, O_RSTART, O_FSTART,
       O_SLOWV, O_FEWEST, O_SLOW, O_NOUT };

static inline double safe_div(double num, double den) {   /* _util.safe_div: NaN for a zero or non-finite den */
    return (isfinite(den) && den != 0.0) ? num / den : NAN;
}

static PyObject *cycle_columns(PyObject *self, PyObject *args) {
    static const int in_kinds[C_NIN] = {K_F64, K_I64, K_F64, K_F64, K_F64, K_F64, K_F64, K_F64, K_BOOL, K_I64, K_I64};
    static const int out_kinds[O_NOUT] = {K_F64, K_F64, K_F64, K_F64, K_F64, K_F64, K_F64, K_F64, K_F64, K_F64,
                                          K_F64, K_F64, K_F64, K_I64, K_BOOL};
    PyObject *ao, *ins, *outs, *result = NULL;
    Py_buffer ab, ib[C_NIN], ob[O_NOUT];
    int from_rising, n_in = 0, n_out = 0, k;
    Py_ssize_t m, j, bad = -1;
    (void)self;
    if (!PyArg_ParseTuple(args, "OpO!O!", &ao, &from_rising, &PyTuple_Type, &ins, &PyTuple_Type, &outs)) return NULL;
    if (PyTuple_GET_SIZE(ins) != C_NIN || PyTuple_GET_SIZE(outs) != O_NOUT) {
        PyErr_SetString(PyExc_ValueError, "_fastedges.cycle_columns: wrong number of arrays");
        return NULL;
    }
    if (get_buf(ao, &ab, K_I64, 0, "anchor") < 0) return NULL;
    m = n_of(&ab);
    for (; n_in < C_NIN; n_in++)
        if (get_buf(PyTuple_GET_ITEM(ins, n_in), &ib[n_in], in_kinds[n_in], 0, "input") < 0) goto done;
    for (; n_out < O_NOUT; n_out++) {
        if (get_buf(PyTuple_GET_ITEM(outs, n_out), &ob[n_out], out_kinds[n_out], 1, "output") < 0) goto done;
        if (n_of(&ob[n_out]) != m) {
            n_out++;
            PyErr_SetString(PyExc_ValueError, "_fastedges.cycle_columns: an output differs from anchor in length");
            goto done;
        }
    }
    Py_BEGIN_ALLOW_THREADS
    {
        /* measure_cycles' columns, cycle by cycle: each index checked against its array (numpy's
         * negative indices wrap, as the reference route's would) */
        const int64_t *anchor = (const int64_t *)ab.buf;
        const double *t_mid = (const double *)ib[C_TMID].buf, *mean = (const double *)ib[C_MEAN].buf;
        const double *tilt = (const double *)ib[C_TILT].buf, *t_first = (const double *)ib[C_TFIRST].buf;
        const double *t_last = (const double *)ib[C_TLAST].buf, *peak = (const double *)ib[C_PEAK].buf;
        const double *band = (const double *)ib[C_BAND].buf;
        const unsigned char *sharp = (const unsigned char *)ib[C_SHARP].buf;
        const int64_t *int_start = (const int64_t *)ib[C_INTSTART].buf, *first = (const int64_t *)ib[C_FIRST].buf;
        const int64_t *last = (const int64_t *)ib[C_LAST].buf;
        const Py_ssize_t e = n_of(&ib[C_TMID]), p = n_of(&ib[C_INTSTART]), rows = n_of(&ib[C_MEAN]);
        double *o[O_FEWEST];
        int64_t *fewest = (int64_t *)ob[O_FEWEST].buf;
        unsigned char *slow = (unsigned char *)ob[O_SLOW].buf;
        for (k = 0; k < O_FEWEST; k++) o[k] = (double *)ob[k].buf;
        if (n_of(&ib[C_TFIRST]) != e || n_of(&ib[C_TLAST]) != e || n_of(&ib[C_PEAK]) != e || n_of(&ib[C_BAND]) != e
            || n_of(&ib[C_SHARP]) != e || n_of(&ib[C_TILT]) != rows || n_of(&ib[C_FIRST]) != p
            || n_of(&ib[C_LAST]) != p || p != e + 1)
            bad = 0;
        for (j = 0; j < m && bad < 0; j++) {
            int64_t a0 = anchor[j], a1 = a0 + 1, a2 = a0 + 2, hi_p, lo_p, r_e, f_e, hr, lr, held_hi, held_lo;
            double t0, t2, period, high_time, v_high, v_low, swing, th, tl;
            if (a0 < 0 || a2 >= e) {
                bad = j;
                break;
            }
            if (from_rising) {
                hi_p = a1, lo_p = a2, r_e = a0, f_e = a1;
            } else {
                hi_p = a2, lo_p = a1, r_e = a1, f_e = a0;
            }
            hr = int_start[hi_p];
            lr = int_start[lo_p];
            hr = hr < 0 ? hr + rows : hr;
            lr = lr < 0 ? lr + rows : lr;
            if (hr < 0 || hr >= rows || lr < 0 || lr >= rows) {
                bad = j;
                break;
            }
            t0 = t_mid[a0];
            t2 = t_mid[a2];
            period = t2 - t0;
            high_time = from_rising ? t_mid[a1] - t0 : t2 - t_mid[a1];
            v_high = mean[hr];
            v_low = mean[lr];
            swing = v_high - v_low;
            o[O_T0][j] = t0;
            o[O_PERIOD][j] = period;
            o[O_DUTY][j] = high_time / (period > 0 ? period : NAN);
            o[O_VHIGH][j] = v_high;
            o[O_VLOW][j] = v_low;
            o[O_RSTART][j] = t_first[r_e];
            o[O_FSTART][j] = t_first[f_e];
            o[O_RISE][j] = t_last[r_e] - t_first[r_e];
            o[O_FALL][j] = t_last[f_e] - t_first[f_e];
            o[O_OVER][j] = safe_div(peak[r_e] - v_high, swing);
            o[O_UNDER][j] = safe_div(v_low - peak[f_e], swing);
            th = tilt[hr];
            tl = tilt[lr];
            o[O_TILT][j] = fmax(th, tl);
            o[O_SLOWV][j] = fmax(band[r_e], band[f_e]) / period;
            slow[j] = !(sharp[r_e] && sharp[f_e]);
            held_hi = last[hi_p] - first[hi_p] + 1;
            held_lo = last[lo_p] - first[lo_p] + 1;
            fewest[j] = held_hi < held_lo ? held_hi : held_lo;
        }
    }
    Py_END_ALLOW_THREADS
    if (bad >= 0) {
        PyErr_Format(PyExc_ValueError, "_fastedges.cycle_columns: cycle %zd or the arrays are out of range", bad);
        goto done;
    }
    result = Py_None;
    Py_INCREF(result);
done:
    for (k = 0; k < n_out; k++) PyBuffer_Release(&ob[k]);
    for (k = 0; k < n_in; k++) PyBuffer_Release(&ib[k]);
    PyBuffer_Release(&ab);
    return result;
}

/* ---- edge times -------------------------------------------------------------------------------------- */

static PyObject *edge_times(PyObject *self, PyObject *args) {
    PyObject *o[5];
    Py_buffer b[5];
    static const int kinds[5] = {K_F64, K_I64, K_I64, K_F64, K_F64};
    static const int wr[5] = {0, 0, 0, 1, 1};
    static const char *names[5] = {"t", "entry", "exit", "t_entry", "t_exit"};
    Py_ssize_t n, m, j, bad = -1;
    int got = 0, k;
    PyObject *result = NULL;
    (void)self;
    if (!PyArg_ParseTuple(args, "OOOOO", &o[0], &o[1], &o[2], &o[3], &o[4])) return NULL;
    for (got = 0; got < 5; got++)
        if (get_buf(o[got], &b[got], kinds[got], wr[got], names[got]) < 0) goto done;
    n = n_of(&b[0]);
    m = n_of(&b[1]);
    for (k = 2; k < 5; k++)
        if (n_of(&b[k]) != m) {
            PyErr_SetString(PyExc_ValueError, "_fastedges.edge_times: arrays of unequal length");
            goto done;
        }
    Py_BEGIN_ALLOW_THREADS
    {
        /* t[entry] and t[exit] in one visit per edge: an edge's two samples share a cache line */
        const double *t = (const double *)b[0].buf;
        const int64_t *en = (const int64_t *)b[1].buf, *ex = (const int64_t *)b[2].buf;
        double *t_en = (double *)b[3].buf, *t_ex = (double *)b[4].buf;
        for (j = 0; j < m; j++) {
            if (j + PF < m && en[j + PF] >= 0 && en[j + PF] < n) PREFETCH(t + en[j + PF]);
            if (en[j] < 0 || en[j] >= n || ex[j] < 0 || ex[j] >= n) {
                bad = j;
                break;
            }
            t_en[j] = t[en[j]];
            t_ex[j] = t[ex[j]];
        }
    }
    Py_END_ALLOW_THREADS
    if (bad >= 0) {
        PyErr_Format(PyExc_IndexError, "_fastedges.edge_times: edge %zd lies outside the capture", bad);
        goto done;
    }
    result = Py_None;
    Py_INCREF(result);
done:
    for (k = 0; k < got; k++) PyBuffer_Release(&b[k]);
    return result;
}

static PyMethodDef methods[] = {
    {"edge_times", edge_times, METH_VARARGS,
     "edge_times(t, entry, exit, t_entry, t_exit) -> None: t[entry] and t[exit] in one pass."},
    {"cycle_columns", cycle_columns, METH_VARARGS,
     "cycle_columns(anchor, from_rising, ins, outs) -> None: pwm.measure_cycles' per-cycle columns."},
    {"settled_pairs", settled_pairs, METH_VARARGS,
     "settled_pairs(x, delta, out) -> count: out[:2 count] = the close pairs' first points, then their\n"
     "second points (levels._settled)."},
    {"histogram", histogram, METH_VARARGS,
     "histogram(x, lo, inv_w, counts) -> top: counts = np.bincount(((x - lo) * inv_w).astype(np.intp)) in the\n"
     "int64 buffer (zeroed first); top is the highest bin used, -1 when a value falls outside the buffer."},
    {"search_sorted", search_sorted, METH_VARARGS,
     "search_sorted(a, q, out) -> bool: out = np.searchsorted(a, q) by one merge when a and q are sorted\n"
     "int64 arrays; False (out unusable) when they are not."},
    {"subsample", subsample, METH_VARARGS,
     "subsample(n, m, golden, out) -> None: levels.subsample_index's 2 m indices into out (int64)."},
    {"plateau_interiors", plateau_interiors, METH_VARARGS,
     "plateau_interiors(first, last, single, need_start, need_end, settle, nominal, a, b, starts, ends,\n"
     "interior_start, interior_end) -> None: pwm.plateau_layout's interiors, in one loop."},
    {"interior_stats", interior_stats, METH_VARARGS,
     "interior_stats(v, starts, ends, min_count, mean, tilt) -> None (levels.interior_stats: the mean of\n"
     "each interior [starts, ends) and the spread of its thirds' means, into the float64 outputs)."},
    {"span", span, METH_VARARGS,
     "span(v[, index, out]) -> (min, max, any_nan) of a float64 array, in one pass that also copies\n"
     "v[index] into out (index: sorted int64)."},
    {"transitions", transitions, METH_VARARGS,
     "transitions(v, lo_v, hi_v, entry, exit, rising, capacity) -> (n_hi, n_lo, kept)\n\n"
     "Schmitt-trigger edges of v across [lo_v, hi_v] (edges.find_transitions): the first\n"
     "min(kept, capacity) edges are written to the int64/int64/bool outputs; n_hi and n_lo count\n"
     "the changes of v > hi_v and v < lo_v."},
    {"short_monotonic", short_monotonic, METH_VARARGS,
     "short_monotonic(t, v, exit, entry, before, after, first, mid, last, quick, max_span) -> timed\n\n"
     "edges._short_monotonic: times the short monotonic edges into first/mid/last, marks them in quick."},
    {"edge_pass", edge_pass, METH_VARARGS,
     "edge_pass(t, v, exit, entry, before, after, first, mid, last, quick, max_span, rising, limit, settle,\n"
     "width, peak) -> timed: short_monotonic and edge_peaks in one visit per edge."},
    {"edge_peaks", edge_peaks, METH_VARARGS,
     "edge_peaks(v, exit, entry, rising, limit, settle, width, out) -> None (edges.edge_peaks)."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "_fastedges", "Compiled loops of the analyzer (see _fastedges.c).", -1, methods,
};

PyMODINIT_FUNC PyInit__fastedges(void) { return PyModule_Create(&module); }
