/* The clocks under the bridge benchmark, in plain C: what one call of
 * clock_gettime(CLOCK_REALTIME) (the clock heph.now and baseline_clock.now read) and one of
 * time() (the clock os.time reads) cost on this machine, so the bridge's figures can be
 * told from the clocks'. CPU time, best of 5 rounds of 3,000,000 calls, as bridge.lua.
 * Built and run by scripts/bench (section clock), never shipped; prints Markdown. */
#include <stdio.h>
#include <time.h>

#define CALLS 3000000L
#define ROUNDS 5

static volatile long sink; /* keeps the calls from being optimised away */

static double cpu_seconds(void) {
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Nanoseconds per execution of `call`, the best of ROUNDS rounds (a macro, so that no
 * indirect call is counted with the clock). */
#define BEST_NS(result, call)                                                  \
    do {                                                                       \
        (result) = 0;                                                          \
        for (int round = 0; round < ROUNDS; round++) {                         \
            double started = cpu_seconds();                                    \
            for (long i = 0; i < CALLS; i++) { call; }                         \
            double ns = (cpu_seconds() - started) * 1e9 / (double)CALLS;       \
            if (round == 0 || ns < (result)) (result) = ns;                    \
        }                                                                      \
    } while (0)

int main(void) {
    double realtime_ns, time_ns;
    struct timespec ts;
    BEST_NS(realtime_ns, clock_gettime(CLOCK_REALTIME, &ts); sink += ts.tv_nsec);
    BEST_NS(time_ns, sink += (long)time(NULL));
    printf("| clock | per call |\n");
    printf("|---|---|\n");
    printf("| `clock_gettime(CLOCK_REALTIME)` (`heph.now`'s clock) | %.1f ns |\n", realtime_ns);
    printf("| `time()` (`os.time`'s clock) | %.1f ns |\n", time_ns);
    return 0;
}
