/* split.c — task groups and the paper-exact seeded train/test split. */
#include "data/split.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define MT_N 624
#define MT_M 397

void rbe_mt19937_seed(rbe_mt19937 *mt, uint32_t seed)
{
	/* numpy's mt19937_seed (Knuth's init_genrand). */
	for (int pos = 0; pos < MT_N; pos++) {
		mt->key[pos] = seed;
		seed = 1812433253u * (seed ^ (seed >> 30)) + (uint32_t)pos + 1u;
	}
	mt->pos = MT_N;
}

static void mt_generate(rbe_mt19937 *mt)
{
	static const uint32_t mag01[2] = {0u, 0x9908b0dfu};
	uint32_t *k = mt->key, y;
	int i;
	for (i = 0; i < MT_N - MT_M; i++) {
		y = (k[i] & 0x80000000u) | (k[i + 1] & 0x7fffffffu);
		k[i] = k[i + MT_M] ^ (y >> 1) ^ mag01[y & 1u];
	}
	for (; i < MT_N - 1; i++) {
		y = (k[i] & 0x80000000u) | (k[i + 1] & 0x7fffffffu);
		k[i] = k[i + (MT_M - MT_N)] ^ (y >> 1) ^ mag01[y & 1u];
	}
	y = (k[MT_N - 1] & 0x80000000u) | (k[0] & 0x7fffffffu);
	k[MT_N - 1] = k[MT_M - 1] ^ (y >> 1) ^ mag01[y & 1u];
	mt->pos = 0;
}

uint32_t rbe_mt19937_next32(rbe_mt19937 *mt)
{
	if (mt->pos == MT_N)
		mt_generate(mt);
	uint32_t y = mt->key[mt->pos++];
	y ^= y >> 11;
	y ^= (y << 7) & 0x9d2c5680u;
	y ^= (y << 15) & 0xefc60000u;
	y ^= y >> 18;
	return y;
}

/* numpy's random_interval: rejection sampling under the smallest all-ones mask >= max. */
static uint32_t random_interval(rbe_mt19937 *mt, uint32_t max)
{
	if (max == 0)
		return 0;
	uint32_t mask = max;
	mask |= mask >> 1;
	mask |= mask >> 2;
	mask |= mask >> 4;
	mask |= mask >> 8;
	mask |= mask >> 16;
	uint32_t value;
	while ((value = rbe_mt19937_next32(mt) & mask) > max)
		;
	return value;
}

void rbe_np_legacy_shuffle(uint32_t *a, size_t n, uint32_t seed)
{
	rbe_mt19937 mt;
	rbe_mt19937_seed(&mt, seed);
	rbe_require(n <= UINT32_MAX);
	for (size_t i = n; i-- > 1;) {
		uint32_t j = random_interval(&mt, (uint32_t)i);
		uint32_t t = a[i];
		a[i] = a[j];
		a[j] = t;
	}
}

void rbe_split_assign(size_t n, uint32_t seed, double train_fraction, uint8_t *is_train)
{
	uint32_t *ids = rbe_xmalloc(n * sizeof(uint32_t));
	for (size_t k = 0; k < n; k++)
		ids[k] = (uint32_t)k;
	rbe_np_legacy_shuffle(ids, n, seed);
	/* Python's int(len(ids) * 0.7): the same double product, truncated. */
	size_t n_train = (size_t)floor((double)n * train_fraction);
	memset(is_train, 0, n);
	for (size_t k = 0; k < n_train; k++)
		is_train[ids[k]] = 1;
	free(ids);
}

void rbe_grouping_default(rbe_grouping *g)
{
	memset(g, 0, sizeof(*g));
	rbe_require(rbe_grouping_add(g, "mmlu-*=mmlu", NULL) == 0);
}

int rbe_grouping_add(rbe_grouping *g, const char *rule, rbe_error *e)
{
	const char *eq = strchr(rule, '=');
	if (!eq || eq == rule || !eq[1])
		return rbe_fail(e, -EINVAL, "group rule '%s': expected PATTERN=GROUP (e.g. mmlu-*=mmlu)", rule);
	char *pattern = strndup(rule, (size_t)(eq - rule));
	const char *star = strchr(pattern, '*');
	if (star && star[1] != '\0') {
		free(pattern);
		return rbe_fail(e, -EINVAL, "group rule '%s': '*' may only end the pattern", rule);
	}
	g->patterns = rbe_xrealloc(g->patterns, (g->n_rules + 1) * sizeof(char *));
	g->groups = rbe_xrealloc(g->groups, (g->n_rules + 1) * sizeof(char *));
	g->patterns[g->n_rules] = pattern;
	g->groups[g->n_rules] = rbe_xstrdup(eq + 1);
	g->n_rules++;
	return 0;
}

void rbe_grouping_clear(rbe_grouping *g)
{
	for (size_t r = 0; r < g->n_rules; r++) {
		free(g->patterns[r]);
		free(g->groups[r]);
	}
	free(g->patterns);
	free(g->groups);
	memset(g, 0, sizeof(*g));
}

const char *rbe_grouping_group_of(const rbe_grouping *g, const char *eval_name)
{
	for (size_t r = 0; r < g->n_rules; r++) {
		const char *p = g->patterns[r];
		size_t len = strlen(p);
		if (len && p[len - 1] == '*') {
			if (!strncmp(eval_name, p, len - 1))
				return g->groups[r];
		} else if (!strcmp(eval_name, p)) {
			return g->groups[r];
		}
	}
	return eval_name;
}

void rbe_split_free(rbe_split *s)
{
	if (!s)
		return;
	for (uint32_t k = 0; k < s->n_groups; k++)
		free(s->group_names[k]);
	free(s->group_names);
	free(s->group_of);
	free(s->is_train);
	free(s->n_train);
	free(s->n_test);
	free(s);
}

int rbe_split_group_index(const rbe_split *s, const char *name)
{
	for (uint32_t k = 0; k < s->n_groups; k++)
		if (!strcmp(s->group_names[k], name))
			return (int)k;
	return -1;
}

int rbe_split_make(const rbe_dataset *ds, const rbe_grouping *g, uint32_t seed, double train_fraction,
		   rbe_split **out, rbe_error *e)
{
	if (!(train_fraction > 0.0 && train_fraction < 1.0))
		return rbe_fail(e, -EINVAL, "train fraction %g must be between 0 and 1 (exclusive)", train_fraction);
	rbe_split *s = rbe_xcalloc(1, sizeof(*s));
	s->group_of = rbe_xmalloc(ds->n * sizeof(uint32_t));
	s->is_train = rbe_xmalloc(ds->n);

	/* Group of each eval_name, groups numbered in order of first appearance in the rows. */
	uint32_t *group_of_eval = rbe_xmalloc(ds->n_evals * sizeof(uint32_t));
	for (uint32_t v = 0; v < ds->n_evals; v++)
		group_of_eval[v] = UINT32_MAX;
	rbe_strmap *names = rbe_strmap_new();
	for (size_t i = 0; i < ds->n; i++) {
		uint32_t v = ds->eval[i];
		if (group_of_eval[v] == UINT32_MAX) {
			const char *gname = rbe_grouping_group_of(g, ds->eval_names[v]);
			long k = rbe_strmap_get(names, gname);
			if (k < 0) {
				k = s->n_groups++;
				rbe_strmap_put(names, gname, k);
				s->group_names = rbe_xrealloc(s->group_names, s->n_groups * sizeof(char *));
				s->group_names[k] = rbe_xstrdup(gname);
			}
			group_of_eval[v] = (uint32_t)k;
		}
		s->group_of[i] = group_of_eval[v];
	}
	rbe_strmap_free(names);
	free(group_of_eval);

	/* Per group: its samples in row order (sample_ids are unique, so first appearance is row
	 * order), shuffled exactly as np.random.seed(seed); np.random.shuffle(ids). */
	s->n_train = rbe_xcalloc(s->n_groups, sizeof(size_t));
	s->n_test = rbe_xcalloc(s->n_groups, sizeof(size_t));
	size_t *count = rbe_xcalloc(s->n_groups, sizeof(size_t));
	for (size_t i = 0; i < ds->n; i++)
		count[s->group_of[i]]++;
	size_t *start = rbe_xcalloc(s->n_groups + 1, sizeof(size_t));
	for (uint32_t k = 0; k < s->n_groups; k++)
		start[k + 1] = start[k] + count[k];
	size_t *rows = rbe_xmalloc(ds->n * sizeof(size_t));
	size_t *fill = rbe_xcalloc(s->n_groups, sizeof(size_t));
	for (size_t i = 0; i < ds->n; i++) {
		uint32_t k = s->group_of[i];
		rows[start[k] + fill[k]++] = i;
	}
	uint8_t *flags = rbe_xmalloc(ds->n);
	for (uint32_t k = 0; k < s->n_groups; k++) {
		rbe_split_assign(count[k], seed, train_fraction, flags + start[k]);
		for (size_t r = 0; r < count[k]; r++) {
			uint8_t t = flags[start[k] + r];
			s->is_train[rows[start[k] + r]] = t;
			if (t)
				s->n_train[k]++;
			else
				s->n_test[k]++;
		}
	}
	free(flags);
	free(fill);
	free(rows);
	free(start);
	free(count);
	*out = s;
	return 0;
}
