/* Counter-based random numbers: value k of a stream is a pure function of (key, k).
 *
 * Every random draw in gcbench (initial weights, shuffles, augmentation, dropout masks, the
 * synthetic images) is addressed by a key built from the seed and what it is for, plus a
 * counter. Results therefore do not depend on thread count or on the order in which work is
 * done, and the baseline and GC runs see exactly the same draws. The generator is the
 * splitmix64 sequence: x_k = mix(key + (k + 1) * golden). */
#ifndef GCBENCH_ENGINE_RNG_H
#define GCBENCH_ENGINE_RNG_H

#include <stdint.h>

/* What a stream is for; part of every key so streams never coincide. */
enum {
    RNG_STREAM_INIT = 1,      /* weight initialisation: (tensor index) */
    RNG_STREAM_SHUFFLE = 2,   /* per-epoch order of the training images: (epoch) */
    RNG_STREAM_AUGMENT = 3,   /* per-image augmentation: (epoch, image) */
    RNG_STREAM_DROPOUT = 4,   /* dropout masks: (epoch, step, layer) */
    RNG_STREAM_SYNTHETIC = 5, /* the embedded dataset's images: (image index) */
    RNG_STREAM_BOOTSTRAP = 6, /* a seed study's bootstrap resamples: (sample size) */
};

#define RNG_GOLDEN UINT64_C(0x9E3779B97F4A7C15)

static inline uint64_t rng_mix(uint64_t z)
{
    z = (z ^ (z >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94D049BB133111EB);
    return z ^ (z >> 31);
}

/* A key from the seed, the stream and two stream-specific coordinates. */
static inline uint64_t rng_key(uint64_t seed, uint64_t stream, uint64_t a, uint64_t b)
{
    uint64_t k = rng_mix(seed + RNG_GOLDEN);
    k = rng_mix(k ^ (stream * RNG_GOLDEN));
    k = rng_mix(k ^ rng_mix(a + 0x1234567ULL));
    return rng_mix(k ^ rng_mix(b + 0x89ABCDEFULL));
}

/* Value number `counter` of the stream `key`: 64 random bits. */
static inline uint64_t rng_u64(uint64_t key, uint64_t counter)
{
    return rng_mix(key + (counter + 1) * RNG_GOLDEN);
}

/* Uniform in [0, 1) with 24 random bits (exactly representable as float). */
static inline float rng_uniform(uint64_t key, uint64_t counter)
{
    return (float)(rng_u64(key, counter) >> 40) * 0x1.0p-24f;
}

/* Uniform in [lo, hi). */
static inline float rng_range(uint64_t key, uint64_t counter, float lo, float hi)
{
    return lo + (hi - lo) * rng_uniform(key, counter);
}

/* Uniform integer in [0, n), n > 0 (multiply-shift; bias below 2^-32 for n < 2^32). */
static inline uint64_t rng_below(uint64_t key, uint64_t counter, uint64_t n)
{
    return (uint64_t)(((unsigned __int128)rng_u64(key, counter) * n) >> 64);
}

/* A sequential reader over one stream, for code that draws a variable number of values. */
typedef struct {
    uint64_t key;
    uint64_t next;
} rng_stream;

static inline rng_stream rng_stream_at(uint64_t key) { return (rng_stream){key, 0}; }
static inline float rng_next_uniform(rng_stream *s) { return rng_uniform(s->key, s->next++); }
static inline float rng_next_range(rng_stream *s, float lo, float hi)
{
    return rng_range(s->key, s->next++, lo, hi);
}
static inline uint64_t rng_next_below(rng_stream *s, uint64_t n) { return rng_below(s->key, s->next++, n); }

#endif
