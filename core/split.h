/* split.h — task groups and the seeded train/test split (paper-exact numpy legacy shuffle, OOD). */
#ifndef RBD_SPLIT_H
#define RBD_SPLIT_H

#include <stddef.h>
#include <stdint.h>

#include "dataset.h"

/* numpy's legacy RandomState MT19937 (np.random.seed(int) then draws). */
typedef struct rbd_mt19937 {
	uint32_t key[624];
	int pos;
} rbd_mt19937;

void rbd_mt19937_seed(rbd_mt19937 *mt, uint32_t seed);
uint32_t rbd_mt19937_next32(rbd_mt19937 *mt);

/* Exactly np.random.seed(seed); np.random.shuffle(a) for a Python list a of n items. */
void rbd_np_legacy_shuffle(uint32_t *a, size_t n, uint32_t seed);

/* Paper split of one group of n samples in first-appearance order: shuffle 0..n-1 with the
 * numpy legacy shuffle, the first floor(fraction * n) shuffled positions are train.
 * is_train[k] tells whether the k-th sample of the group is in the train split. */
void rbd_split_assign(size_t n, uint32_t seed, double train_fraction, uint8_t *is_train);

/* How eval_names form task groups: a rule "PREFIX*=GROUP" maps every eval_name starting with
 * PREFIX to GROUP; a rule "NAME=GROUP" maps one name; names no rule matches are their own group. */
typedef struct rbd_grouping {
	size_t n_rules;
	char **patterns; /* owned */
	char **groups;   /* owned */
} rbd_grouping;

void rbd_grouping_default(rbd_grouping *g); /* the paper's: "mmlu-*=mmlu" */
int rbd_grouping_add(rbd_grouping *g, const char *rule, rbd_error *e);
void rbd_grouping_clear(rbd_grouping *g);
const char *rbd_grouping_group_of(const rbd_grouping *g, const char *eval_name); /* borrowed */

typedef enum rbd_split_mode {
	RBD_SPLIT_PAPER = 0, /* per group: train on its own 70 %, test on its 30 % */
	RBD_SPLIT_OOD = 1,   /* per group: train on every other group's train part, test on its 30 % */
} rbd_split_mode;

/* The groups of a dataset and which samples are train. */
typedef struct rbd_split {
	uint32_t n_groups;
	char **group_names;         /* [n_groups], order of first appearance; owned */
	uint32_t *group_of;         /* [n] group index of each sample */
	uint8_t *is_train;          /* [n] */
	size_t *n_train, *n_test;   /* [n_groups] */
} rbd_split;

int rbd_split_make(const rbd_dataset *ds, const rbd_grouping *g, uint32_t seed, double train_fraction,
		   rbd_split **out, rbd_error *e);
void rbd_split_free(rbd_split *s);
int rbd_split_group_index(const rbd_split *s, const char *name); /* -1 when absent */

#endif
