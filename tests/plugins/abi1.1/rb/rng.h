/* rb/rng.h — the seeded random generator every router uses (header-only, so plugins link nothing). */
#ifndef RB_RNG_H
#define RB_RNG_H

#include <stdint.h>

/* xoshiro256** seeded through splitmix64: fast, small state, same stream on every platform. */
typedef struct rb_rng {
	uint64_t s[4];
} rb_rng;

static inline uint64_t rb_splitmix64(uint64_t *x)
{
	uint64_t z = (*x += 0x9e3779b97f4a7c15ull);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static inline void rb_rng_seed(rb_rng *r, uint64_t seed)
{
	for (int i = 0; i < 4; i++)
		r->s[i] = rb_splitmix64(&seed);
}

static inline uint64_t rb_rng_next(rb_rng *r)
{
	uint64_t *s = r->s;
	uint64_t x = s[1] * 5;
	uint64_t result = ((x << 7) | (x >> 57)) * 9;
	uint64_t t = s[1] << 17;
	s[2] ^= s[0];
	s[3] ^= s[1];
	s[1] ^= s[2];
	s[0] ^= s[3];
	s[2] ^= t;
	s[3] = (s[3] << 45) | (s[3] >> 19);
	return result;
}

/* Uniform double in [0, 1) with 53 random bits. */
static inline double rb_rng_uniform(rb_rng *r)
{
	return (double)(rb_rng_next(r) >> 11) * 0x1.0p-53;
}

/* Uniform integer in [0, n); n > 0. Lemire's method with rejection, so there is no modulo bias. */
static inline uint64_t rb_rng_below(rb_rng *r, uint64_t n)
{
	__uint128_t m = (__uint128_t)rb_rng_next(r) * n;
	uint64_t low = (uint64_t)m;
	if (low < n) {
		uint64_t threshold = -n % n;
		while (low < threshold) {
			m = (__uint128_t)rb_rng_next(r) * n;
			low = (uint64_t)m;
		}
	}
	return (uint64_t)(m >> 64);
}

#endif
