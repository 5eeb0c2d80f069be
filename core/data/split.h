/* split.h — task groups and the seeded train/test split (paper-exact numpy legacy shuffle, OOD). */
#ifndef RBE_SPLIT_H
#define RBE_SPLIT_H

#include <stddef.h>
#include <stdint.h>

#include "data/dataset.h"

/* numpy's legacy RandomState MT19937 (np.random.seed(int) then draws). */
typedef struct rbe_mt19937 {
	uint32_t key[624];
	int pos;
} rbe_mt19937;

void rbe_mt19937_seed(rbe_mt19937 *mt, uint32_t seed);
uint32_t rbe_mt19937_next32(rbe_mt19937 *mt);

/* Exactly np.random.seed(seed); np.random.shuffle(a) for a Python list a of n items. */
void rbe_np_legacy_shuffle(uint32_t *a, size_t n, uint32_t seed);

/* Paper split of one group of n samples in first-appearance order: shuffle 0..n-1 with the
 * numpy legacy shuffle, the first floor(fraction * n) shuffled positions are train.
 * is_train[k] tells whether the k-th sample of the group is in the train split. */
void rbe_split_assign(size_t n, uint32_t seed, double train_fraction, uint8_t *is_train);

/* How eval_names form task groups: a rule "PREFIX*=GROUP" maps every eval_name starting with
 * PREFIX to GROUP; a rule "NAME=GROUP" maps one name; names no rule matches are their own group. */
typedef struct rbe_grouping {
	size_t n_rules;
	char **patterns; /* owned */
	char **groups;   /* owned */
} rbe_grouping;

void rbe_grouping_default(rbe_grouping *g); /* the paper's: "mmlu-*=mmlu" */
int rbe_grouping_add(rbe_grouping *g, const char *rule, rbe_error *e);
void rbe_grouping_clear(rbe_grouping *g);
const char *rbe_grouping_group_of(const rbe_grouping *g, const char *eval_name); /* borrowed */

typedef enum rbe_split_mode {
	RBE_SPLIT_PAPER = 0, /* per group: train on its own 70 %, test on its 30 % */
	RBE_SPLIT_OOD = 1,   /* per group: train on every other group's train part, test on its 30 % */
} rbe_split_mode;

/* The groups of a dataset and which samples are train. */
typedef struct rbe_split {
	uint32_t n_groups;
	char **group_names;         /* [n_groups], order of first appearance; owned */
	uint32_t *group_of;         /* [n] group index of each sample */
	uint8_t *is_train;          /* [n] */
	size_t *n_train, *n_test;   /* [n_groups] */
} rbe_split;

int rbe_split_make(const rbe_dataset *ds, const rbe_grouping *g, uint32_t seed, double train_fraction,
		   rbe_split **out, rbe_error *e);
void rbe_split_free(rbe_split *s);
int rbe_split_group_index(const rbe_split *s, const char *name); /* -1 when absent */

#endif
