/* Counts the elements torch hands to MKL's vector maths (VML), by function name.
 *
 * Preloaded into a probe process (tests/test_kernels.py): each wrapper forwards to the VML function
 * in libtorch_cpu.so and adds n to its count; the counts are written to $VML_COUNTS at exit.
 * Only the single-precision functions torch's unary ops can reach are wrapped. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>

#define N_FUN 32
static const char *names[N_FUN];
static long counts[N_FUN];
static int n_names = 0;

static void dump(void) {
    const char *path = getenv("VML_COUNTS");
    FILE *f = path ? fopen(path, "w") : NULL;
    if (!f) return;
    for (int i = 0; i < n_names; i++) fprintf(f, "%s %ld\n", names[i], counts[i]);
    fclose(f);
}

__attribute__((constructor)) static void init(void) { atexit(dump); }

static void *lookup(const char *name) {
    void *p = dlsym(RTLD_NEXT, name);
    if (!p) {
        void *h = dlopen(getenv("VML_LIBRARY"), RTLD_NOW | RTLD_NOLOAD);
        if (h) p = dlsym(h, name);
    }
    if (!p) { fprintf(stderr, "vml_counter: %s not found\n", name); abort(); }
    return p;
}

typedef void (*vm_fn)(int, const float *, float *, long long);

#define WRAP(NAME)                                                                  \
    void NAME(int n, const float *a, float *r, long long mode) {                    \
        static vm_fn real = 0;                                                      \
        static int slot = -1;                                                       \
        if (!real) { real = (vm_fn)lookup(#NAME); slot = n_names++; names[slot] = #NAME; } \
        counts[slot] += n;                                                          \
        real(n, a, r, mode);                                                        \
    }

WRAP(vmsSqrt) WRAP(vmsTanh) WRAP(vmsExp) WRAP(vmsLn) WRAP(vmsAcos) WRAP(vmsAsin) WRAP(vmsAtan)
WRAP(vmsCos) WRAP(vmsSin) WRAP(vmsTan) WRAP(vmsErf) WRAP(vmsErfc) WRAP(vmsErfInv) WRAP(vmsLog10)
WRAP(vmsLog1p) WRAP(vmsLGamma)
