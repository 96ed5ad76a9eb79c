#include "heph_internal.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/*
 * The watch thread. Lua's hook cannot stop everything: inside a finalizer (__gc) Lua turns
 * hooks off, and a C function (string.find with a pathological pattern, a huge string.rep)
 * runs no hook until it returns. The Lua thread tells this thread what it enters and for
 * how long (heph_guard_push/pop); an entry that outlives its limit by a second, or an
 * interrupt by HEPH_INTERRUPT_GRACE seconds (seconds of the Lua thread's computation),
 * ends the process with HEPH_EXIT_STUCK and a
 * message naming the cause, rather than leaving heph hanging with nobody told.
 */

#define HEPH_GUARD_DEPTH 16
/* How often the thread looks. */
#define HEPH_GUARD_TICK_NS (50 * 1000 * 1000)

typedef struct heph_entry {
    double deadline;        /* 0: none (only interrupts) */
    char cause[200];
} heph_entry;

struct heph_guard {
    pthread_mutex_t lock;
    pthread_cond_t wake;
    pthread_t thread;
    int running;
    int depth;
    heph_entry entries[HEPH_GUARD_DEPTH];
    double interrupted_at;  /* 0: no interrupt pending */
    /* The Lua thread's CPU clock, taken at its first entry: limits are counted in the
     * computation the Lua thread does, so a machine too busy to run it is no reason to
     * end heph, while a loop that cannot be interrupted (which computes) still is. */
    clockid_t clock;
    int has_clock;
};

/* Seconds of CPU the Lua thread has used (CLOCK_MONOTONIC until its first entry). */
static double heph_guard_now_of(heph_guard *guard) {
    struct timespec now;
    if (!guard->has_clock || clock_gettime(guard->clock, &now) != 0) clock_gettime(CLOCK_MONOTONIC, &now);
    return (double)now.tv_sec + (double)now.tv_nsec / 1e9;
}

/* Ends the process: the Lua thread cannot be stopped, and nothing else would end it. */
static void heph_guard_end(const char *cause, const char *why) {
    char message[512];
    int length = snprintf(message, sizeof message,
        "heph: %s %s; Lua cannot interrupt it there (inside a finalizer, __gc, or a long C call such as string.find or string.rep), so heph ends now (exit %d)\n",
        cause, why, HEPH_EXIT_STUCK);
    if (length > 0) {
        ssize_t ignored = write(STDERR_FILENO, message, (size_t)length < sizeof message ? (size_t)length : sizeof message - 1);
        (void)ignored;
    }
    _exit(HEPH_EXIT_STUCK);
}

static void *heph_guard_watch(void *argument) {
    heph_guard *guard = argument;
    pthread_mutex_lock(&guard->lock);
    while (guard->running) {
        struct timespec until;
        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_nsec += HEPH_GUARD_TICK_NS;
        if (until.tv_nsec >= 1000000000L) { until.tv_sec += 1; until.tv_nsec -= 1000000000L; }
        pthread_cond_timedwait(&guard->wake, &guard->lock, &until);
        if (!guard->running || guard->depth == 0) continue;
        double now = heph_guard_now_of(guard);
        heph_entry *entry = &guard->entries[(guard->depth > HEPH_GUARD_DEPTH ? HEPH_GUARD_DEPTH : guard->depth) - 1];
        if (entry->deadline > 0 && now > entry->deadline) {
            heph_guard_end(entry->cause, "ran past its time limit and did not stop");
        }
        if (guard->interrupted_at > 0 && now > guard->interrupted_at + HEPH_INTERRUPT_GRACE) {
            heph_guard_end(entry->cause, "was interrupted and did not stop");
        }
    }
    pthread_mutex_unlock(&guard->lock);
    return NULL;
}

heph_guard *heph_guard_new(void) {
    heph_guard *guard = calloc(1, sizeof *guard);
    if (guard == NULL) return NULL;
    pthread_mutex_init(&guard->lock, NULL);
    pthread_cond_init(&guard->wake, NULL);
    guard->running = 1;
    if (pthread_create(&guard->thread, NULL, heph_guard_watch, guard) != 0) {
        free(guard);
        return NULL;
    }
    return guard;
}

void heph_guard_free(heph_guard *guard) {
    if (guard == NULL) return;
    pthread_mutex_lock(&guard->lock);
    guard->running = 0;
    pthread_cond_signal(&guard->wake);
    pthread_mutex_unlock(&guard->lock);
    pthread_join(guard->thread, NULL);
    pthread_mutex_destroy(&guard->lock);
    pthread_cond_destroy(&guard->wake);
    free(guard);
}

void heph_guard_push(heph_guard *guard, double seconds, const char *cause) {
    if (guard == NULL) return;
    pthread_mutex_lock(&guard->lock);
    if (!guard->has_clock && pthread_getcpuclockid(pthread_self(), &guard->clock) == 0) guard->has_clock = 1;
    if (guard->depth < HEPH_GUARD_DEPTH) {
        heph_entry *entry = &guard->entries[guard->depth];
        entry->deadline = seconds > 0 ? heph_guard_now_of(guard) + seconds + 1.0 : 0;
        snprintf(entry->cause, sizeof entry->cause, "%s", cause);
    }
    guard->depth++;
    pthread_mutex_unlock(&guard->lock);
}

void heph_guard_interrupted(heph_guard *guard) {
    if (guard == NULL) return;
    pthread_mutex_lock(&guard->lock);
    if (guard->depth > 0) guard->interrupted_at = heph_guard_now_of(guard);
    pthread_mutex_unlock(&guard->lock);
}

void heph_guard_extend(heph_guard *guard, double seconds) {
    if (guard == NULL) return;
    pthread_mutex_lock(&guard->lock);
    if (guard->depth > 0 && guard->depth <= HEPH_GUARD_DEPTH) {
        heph_entry *entry = &guard->entries[guard->depth - 1];
        double until = heph_guard_now_of(guard) + seconds + 1.0;
        if (entry->deadline > 0 && entry->deadline < until) entry->deadline = until;
    }
    pthread_mutex_unlock(&guard->lock);
}

void heph_guard_calm(heph_guard *guard) {
    if (guard == NULL) return;
    pthread_mutex_lock(&guard->lock);
    guard->interrupted_at = 0;
    pthread_mutex_unlock(&guard->lock);
}

void heph_guard_pop(heph_guard *guard) {
    if (guard == NULL) return;
    pthread_mutex_lock(&guard->lock);
    if (guard->depth > 0) guard->depth--;
    if (guard->depth == 0) guard->interrupted_at = 0;
    pthread_mutex_unlock(&guard->lock);
}
