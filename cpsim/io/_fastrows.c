/*
 * cpsim.io._fastrows: a strict fast path for the numeric rows of a capture.
 *
 * Why this exists: pyarrow and pandas parse a generic "time,value" capture at about
 * the same cost per byte (pyarrow ~2.4 ns, pandas ~2.8 ns on the reference machine),
 * so no library reached the reader's speed target; see benchmarks/bench_read.py and
 * the README. Scope exports are a narrow case of CSV: every row has the same number
 * of fields and every used field is a short decimal number. This file parses exactly
 * that case and nothing else.
 *
 * Contract: parse_block() either parses the WHOLE block and returns the row count,
 * or returns None and the caller parses the block with pyarrow (which also names
 * the bad line of a malformed row). It never guesses: anything outside the grammar
 * below, a lone CR, a blank line, a wrong field count, a mantissa above 2^53 or a
 * decimal exponent outside [-22, 22] sends the block to pyarrow. Within the grammar
 * the result is the correctly rounded double (Clinger's fast path: an exact integer
 * below 2^53 times or divided by an exact power of ten is one IEEE-754 operation),
 * i.e. bit for bit what pyarrow's converter returns; tests/test_io_fastrows.py
 * checks that against pyarrow on random and on hand-picked inputs.
 *
 *   float field:  [ \t]* [+-]? (digits [. digits*] | . digits) ([eE] [+-]? digits)? [ \t]*
 *   int field:    [ \t]* [-]? digits [ \t]*              (pyarrow refuses "+12" as int64)
 *   skipped:      anything but the delimiter, CR and LF   (no quoting, as cpsim's pyarrow options)
 *   row end:      LF, CR LF, or the end of the block
 *
 * The GIL is released while parsing, so two threads parse two blocks at once.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <float.h>
#include <stdint.h>
#include <string.h>

#if defined(__FAST_MATH__) || defined(_M_FP_FAST)
/* fast-math may drop -0.0 and reassociate: the build skips the extension (it is optional). */
#error "_fastrows needs IEEE-754 arithmetic: build it without -ffast-math / -Ofast / /fp:fast"
#endif

/* Clinger's fast path is exact only when a double operation is rounded once. With x87
 * extended precision (FLT_EVAL_METHOD 2, i386 without SSE2) it is rounded twice, so
 * every number goes to pyarrow there. */
#if defined(FLT_EVAL_METHOD) && FLT_EVAL_METHOD != 0
#define EXACT_DOUBLES 0
#else
#define EXACT_DOUBLES 1
#endif

#define KIND_SKIP 0
#define KIND_FLOAT 1
#define KIND_INT 2
#define MAX_COLS 256
#define MAX_EXACT (UINT64_C(1) << 53)

static const double POW10[23] = {
    1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11,
    1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
};

typedef struct {
    const unsigned char *p;
    const unsigned char *end;
    unsigned char delim;
    unsigned char decimal;
} Cursor;

static inline int is_digit(unsigned char c) { return (unsigned char)(c - '0') < 10; }

static inline void skip_blank(Cursor *cur) {
    /* pyarrow trims spaces and tabs around a number; never eat the delimiter itself */
    while (cur->p < cur->end && (*cur->p == ' ' || *cur->p == '\t') && *cur->p != cur->delim) cur->p++;
}

/* 1 and *out set on success; 0 when the field is outside the fast grammar. */
static inline int parse_float(Cursor *cur, double *out) {
    const unsigned char *p, *end = cur->end;
    uint64_t m = 0;
    int digits = 0, any = 0, neg = 0, exp10 = 0;

    if (!EXACT_DOUBLES) return 0;
    skip_blank(cur);
    p = cur->p;
    if (p < end && (*p == '+' || *p == '-')) { neg = (*p == '-'); p++; }
    for (; p < end && is_digit(*p); p++) {
        any = 1;
        if (m == 0 && *p == '0') continue;             /* leading zero */
        if (++digits > 19) return 0;
        m = m * 10 + (uint64_t)(*p - '0');
    }
    if (p < end && *p == cur->decimal) {
        p++;
        for (; p < end && is_digit(*p); p++) {
            any = 1;
            if (--exp10 < -400) return 0;              /* far outside +-22 anyway; keeps exp10 bounded */
            if (m == 0 && *p == '0') continue;         /* 0.000123: zeros only move the point */
            if (++digits > 19) return 0;
            m = m * 10 + (uint64_t)(*p - '0');
        }
    }
    if (!any) return 0;
    if (p < end && (*p == 'e' || *p == 'E')) {
        int eneg = 0, e = 0, edigits = 0;
        p++;
        if (p < end && (*p == '+' || *p == '-')) { eneg = (*p == '-'); p++; }
        for (; p < end && is_digit(*p); p++) {
            if (++edigits > 4) return 0;
            e = e * 10 + (*p - '0');
        }
        if (!edigits) return 0;
        exp10 += eneg ? -e : e;
    }
    cur->p = p;
    skip_blank(cur);
    if (m > MAX_EXACT) return 0;
    if (m == 0) {
        *out = neg ? -0.0 : 0.0;
        return 1;
    }
    if (exp10 < -22 || exp10 > 22) return 0;
    {
        double v = (double)m;
        v = exp10 < 0 ? v / POW10[-exp10] : v * POW10[exp10];
        *out = neg ? -v : v;
    }
    return 1;
}

static inline int parse_int(Cursor *cur, double *out) {
    const unsigned char *p, *end = cur->end;
    uint64_t m = 0;
    int digits = 0, any = 0, neg = 0;

    skip_blank(cur);
    p = cur->p;
    if (p < end && *p == '-') { neg = 1; p++; }
    for (; p < end && is_digit(*p); p++) {
        any = 1;
        if (m == 0 && *p == '0') continue;
        if (++digits > 16) return 0;
        m = m * 10 + (uint64_t)(*p - '0');
    }
    if (!any || m > MAX_EXACT) return 0;
    cur->p = p;
    skip_blank(cur);
    *out = (neg && m) ? -(double)m : (double)m;   /* an int64 has no -0 */
    return 1;
}

/* Rows parsed, or -1 when the block must go to the general parser. */
static Py_ssize_t parse_rows(Cursor *cur, int ncols, const unsigned char *kinds,
                             double **outs, Py_ssize_t capacity) {
    Py_ssize_t row = 0;
    const unsigned char *end = cur->end;

    while (cur->p < end) {
        int c, k = 0;
        if (row >= capacity) return -1;
        for (c = 0; c < ncols; c++) {
            if (kinds[c] == KIND_SKIP) {
                const unsigned char *p = cur->p;
                while (p < end && *p != cur->delim && *p != '\n' && *p != '\r') p++;
                cur->p = p;
            } else {
                double v;
                int ok = kinds[c] == KIND_FLOAT ? parse_float(cur, &v) : parse_int(cur, &v);
                if (!ok) return -1;
                outs[k++][row] = v;
            }
            if (c + 1 < ncols) {
                if (cur->p >= end || *cur->p != cur->delim) return -1;   /* too few fields */
                cur->p++;
            }
        }
        row++;
        if (cur->p >= end) break;
        if (*cur->p == '\n') {
            cur->p++;
        } else if (*cur->p == '\r' && cur->p + 1 < end && cur->p[1] == '\n') {
            cur->p += 2;
        } else {
            return -1;   /* too many fields, junk after a number, or a lone CR */
        }
    }
    return row;
}

static PyObject *parse_block(PyObject *self, PyObject *args) {
    Py_buffer data, kinds_buf;
    PyObject *outs_seq, *result = NULL;
    int delim, decimal;
    Py_ssize_t capacity, rows = -1, nout = 0, i;
    Py_buffer outs[MAX_COLS];
    double *ptrs[MAX_COLS];
    unsigned char kinds[MAX_COLS];   /* a private copy: the caller's buffer may change while the GIL is released */
    Cursor cur;
    (void)self;

    if (!PyArg_ParseTuple(args, "y*y*iiOn", &data, &kinds_buf, &delim, &decimal, &outs_seq, &capacity))
        return NULL;
    if (kinds_buf.len < 1 || kinds_buf.len > MAX_COLS || delim < 1 || delim > 127 || decimal < 1 || decimal > 127
        || delim == decimal || capacity < 0 || !PyTuple_Check(outs_seq)) {
        PyErr_SetString(PyExc_ValueError, "parse_block: bad arguments");
        goto done_in;
    }
    memcpy(kinds, kinds_buf.buf, (size_t)kinds_buf.len);
    {
        Py_ssize_t used = 0;
        for (i = 0; i < kinds_buf.len; i++) {
            if (kinds[i] > KIND_INT) {
                PyErr_SetString(PyExc_ValueError, "parse_block: unknown column kind");
                goto done_in;
            }
            used += kinds[i] != KIND_SKIP;
        }
        if (used != PyTuple_GET_SIZE(outs_seq)) {
            PyErr_SetString(PyExc_ValueError, "parse_block: one output array per used column");
            goto done_in;
        }
    }
    while (nout < PyTuple_GET_SIZE(outs_seq)) {
        Py_buffer *out = &outs[nout];
        if (PyObject_GetBuffer(PyTuple_GET_ITEM(outs_seq, nout), out, PyBUF_WRITABLE | PyBUF_C_CONTIGUOUS | PyBUF_FORMAT) < 0)
            goto done;
        nout++;
        if (out->itemsize != (Py_ssize_t)sizeof(double) || out->format == NULL
            || !(strcmp(out->format, "d") == 0 || strcmp(out->format, "=d") == 0 || strcmp(out->format, "@d") == 0)
            || ((uintptr_t)out->buf % sizeof(double)) != 0) {
            PyErr_SetString(PyExc_ValueError, "parse_block: output arrays must be aligned native float64");
            goto done;
        }
        if (capacity > out->len / (Py_ssize_t)sizeof(double)) {
            PyErr_SetString(PyExc_ValueError, "parse_block: an output array is smaller than the capacity");
            goto done;
        }
        ptrs[nout - 1] = (double *)out->buf;
    }
    cur.p = (const unsigned char *)data.buf;
    cur.end = cur.p + data.len;
    cur.delim = (unsigned char)delim;
    cur.decimal = (unsigned char)decimal;
    Py_BEGIN_ALLOW_THREADS
    rows = parse_rows(&cur, (int)kinds_buf.len, kinds, ptrs, capacity);
    Py_END_ALLOW_THREADS
    if (rows < 0) {
        result = Py_None;
        Py_INCREF(result);
    } else {
        result = PyLong_FromSsize_t(rows);
    }
done:
    for (i = 0; i < nout; i++) PyBuffer_Release(&outs[i]);
done_in:
    PyBuffer_Release(&data);
    PyBuffer_Release(&kinds_buf);
    return result;
}

static PyMethodDef methods[] = {
    {"parse_block", parse_block, METH_VARARGS,
     "parse_block(data, kinds, delimiter, decimal, outs, capacity) -> rows or None\n\n"
     "Parse every row of ``data`` (bytes-like) into the float64 buffers ``outs`` (one\n"
     "per column whose kind is 1=float or 2=int; 0=skip), at most ``capacity`` rows.\n"
     "None means the block is outside the fast grammar: parse it with pyarrow."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "_fastrows", "Strict fast path for numeric capture rows (see _fastrows.c).", -1, methods,
};

PyMODINIT_FUNC PyInit__fastrows(void) { return PyModule_Create(&module); }
