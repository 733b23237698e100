/*
 * The kernel's share of starting N tasklets on fresh guarded stacks, without any runtime: maps
 * a region of N slots laid out as concurrence lays them out (a 4 KiB guard page, then STACK KiB
 * of stack), and for each slot installs its guard (or not) and touches the top page of its
 * stack, as a tasklet's first frame does. Prints the CPU time (user + system) per slot.
 *
 *   cc -O2 -o /tmp/stack_faults benchmarks/floor/stack_faults.c
 *   /tmp/stack_faults MODE N [STACK_KIB] [RUN]
 *
 * MODE 0: one madvise(MADV_GUARD_INSTALL) per slot, then the touch (concurrence before issue 22)
 * MODE 1: guards installed RUN slots at a time with process_madvise(PIDFD_SELF), then the touch
 *         (concurrence since issue 22; needs Linux 6.15+)
 * MODE 2: as 1, and the top pages populated RUN at a time (MADV_POPULATE_WRITE) before the touch
 * MODE 3: the touch only, no guard: the page fault alone
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

#ifndef MADV_GUARD_INSTALL
#define MADV_GUARD_INSTALL 102
#endif
#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23
#endif
#define PIDFD_SELF_PROCESS (-10001)
#define PAGE 4096L

static double cpu_seconds(void) {
    struct rusage r;
    getrusage(RUSAGE_SELF, &r);
    return r.ru_utime.tv_sec + r.ru_stime.tv_sec + (r.ru_utime.tv_usec + r.ru_stime.tv_usec) / 1e6;
}

static void advise_run(char *base, long first, long count, long slot, long offset, int advice) {
    struct iovec iov[1024];
    for (long j = 0; j < count; j++) {
        iov[j].iov_base = base + (first + j) * slot + offset;
        iov[j].iov_len = PAGE;
    }
    if (syscall(SYS_process_madvise, PIDFD_SELF_PROCESS, iov, count, advice, 0) != count * PAGE) {
        perror("process_madvise");
        exit(1);
    }
}

int main(int argc, char **argv) {
    if (argc < 3) {
        fprintf(stderr, "usage: %s MODE N [STACK_KIB] [RUN]\n", argv[0]);
        return 2;
    }
    int mode = atoi(argv[1]);
    long n = atol(argv[2]);
    long slot = (argc > 3 ? atol(argv[3]) : 256) * 1024 + PAGE;
    long run = argc > 4 ? atol(argv[4]) : 64;
    if (run < 1 || run > 1024) run = 64;
    char *base = mmap(0, n * slot, PROT_READ | PROT_WRITE,
                      MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (base == MAP_FAILED) {
        perror("mmap");
        return 1;
    }
    double start = cpu_seconds();
    for (long i = 0; i < n; i += run) {
        long m = n - i < run ? n - i : run;
        if (mode == 1 || mode == 2) advise_run(base, i, m, slot, 0, MADV_GUARD_INSTALL);
        if (mode == 2) advise_run(base, i, m, slot, slot - PAGE, MADV_POPULATE_WRITE);
        for (long j = 0; j < m; j++) {
            char *s = base + (i + j) * slot;
            if (mode == 0 && madvise(s, PAGE, MADV_GUARD_INSTALL) != 0) {
                perror("madvise");
                return 1;
            }
            s[slot - 64] = 1;
        }
    }
    double spent = cpu_seconds() - start;
    printf("mode %d, %ld slots of %ld KiB: %.1f ms CPU, %.2f us a slot\n", mode, n,
           (slot - PAGE) / 1024, spent * 1e3, spent * 1e6 / n);
    return 0;
}
