/* gen.h — the demo data generator: RouterBench's Table 1 reproduced by construction, or a
 * synthetic outcome matrix of any size with the same latent structure. */
#ifndef RBE_GEN_H
#define RBE_GEN_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "data/dataset.h"

#define RBE_GEN_PAPER_MODELS 11
#define RBE_GEN_PAPER_TASKS 7
#define RBE_GEN_MMLU_SUBJECTS 57

/* ---- Embedded paper tables (data/gen_tables.c); nothing is read from disk at run time. ---- */

typedef struct rbe_gen_cell {
	double quality;        /* mean score on the 30 % test split (MT-Bench: all 80 questions) */
	double cost_total_usd; /* summed cost over the same samples */
} rbe_gen_cell;

/* Models in the order of Table 1's keys (the dataset's model order). */
extern const char *const rbe_gen_paper_models[RBE_GEN_PAPER_MODELS];
/* USD per 1M tokens: [j][0] prompt, [j][1] completion. */
extern const double rbe_gen_paper_prices[RBE_GEN_PAPER_MODELS][2];
/* Tasks in Table 1's order: mmlu, mt-bench, mbpp, hellaswag, winogrande, grade-school-math,
 * arc-challenge; also the order of the tasks in the generated dataset. */
extern const char *const rbe_gen_paper_tasks[RBE_GEN_PAPER_TASKS];
/* Released per-task sample counts (sum 34,778). */
extern const size_t rbe_gen_paper_counts[RBE_GEN_PAPER_TASKS];
/* Table 1: rows are rbe_gen_paper_models then the oracle (row RBE_GEN_PAPER_MODELS). */
extern const rbe_gen_cell rbe_gen_table1[RBE_GEN_PAPER_MODELS + 1][RBE_GEN_PAPER_TASKS];
/* The 57 MMLU subjects, hyphenated ("abstract-algebra"), with their test-set sizes (sum 14,042). */
extern const char *const rbe_gen_mmlu_subjects[RBE_GEN_MMLU_SUBJECTS];
extern const uint32_t rbe_gen_mmlu_counts[RBE_GEN_MMLU_SUBJECTS];

/* Prompt vocabularies: a name and its words, separated by single spaces. */
typedef struct rbe_gen_vocab {
	const char *name;
	const char *words;
} rbe_gen_vocab;

extern const rbe_gen_vocab rbe_gen_task_vocab[RBE_GEN_PAPER_TASKS];      /* per paper task */
extern const rbe_gen_vocab rbe_gen_mmlu_vocab[RBE_GEN_MMLU_SUBJECTS];    /* per subject */
/* Topics of the other tasks: rbe_gen_topic_vocab[t] holds rbe_gen_topic_count[t] entries
 * (t indexes rbe_gen_paper_tasks; the mmlu entry is unused). */
extern const rbe_gen_vocab *const rbe_gen_topic_vocab[RBE_GEN_PAPER_TASKS];
extern const uint32_t rbe_gen_topic_count[RBE_GEN_PAPER_TASKS];
extern const rbe_gen_vocab rbe_gen_level_vocab[3]; /* easy, medium, hard */
extern const char rbe_gen_filler_words[];

/* Index of a paper task or model by name, or -1. */
int rbe_gen_paper_task_index(const char *task);
int rbe_gen_paper_model_index(const char *model);
/* Table 1's cell for (model or "oracle", task), or NULL when either is not in the table. */
const rbe_gen_cell *rbe_gen_table1_lookup(const char *model, const char *task);
/* The test-split size Table 1's costs are summed over: n − floor(0.7·n); MT-Bench: all 80. */
size_t rbe_gen_paper_n_test(int task);

/* ---- Generation ---- */

typedef enum rbe_gen_preset {
	RBE_GEN_ROUTERBENCH = 0, /* the paper's 11 models × 7 tasks, calibrated to Table 1 */
	RBE_GEN_SYNTHETIC = 1,   /* any N × M × T, same latent structure, no calibration */
} rbe_gen_preset;

typedef struct rbe_gen_opts {
	rbe_gen_preset preset;
	uint64_t seed;          /* default 1; the same seed gives the same dataset, byte for byte */
	size_t n_prompts;       /* synthetic only: default 100000 */
	uint32_t n_models;      /* synthetic only: default 11 */
	uint32_t n_tasks;       /* synthetic only: default 7 */
	int responses;          /* also generate response text (default 0) */
	uint32_t split_seed;    /* calibration split: default 42 */
	double train_fraction;  /* calibration split: default 0.7 */
} rbe_gen_opts;

/* Limits that keep sizes within memory and index types. */
#define RBE_GEN_MAX_PROMPTS ((size_t)100000000)
#define RBE_GEN_MAX_MODELS 4096u

void rbe_gen_opts_init(rbe_gen_opts *o);
/* "routerbench" or "synthetic"; -EINVAL otherwise. */
int rbe_gen_preset_parse(const char *name, rbe_gen_preset *out);
const char *rbe_gen_preset_name(rbe_gen_preset p); /* static string */

/* What the calibration chose per task (routerbench preset). */
typedef struct rbe_gen_task_info {
	const char *task;     /* static string */
	double noise;         /* the tuned decorrelation λ (0 = all models fail together) */
	double oracle_target; /* Table 1's oracle quality */
	double oracle_got;    /* what λ achieved (test split; MT-Bench: all 80) */
} rbe_gen_task_info;

typedef struct rbe_gen_info {
	uint32_t n_tasks; /* 0 for the synthetic preset */
	rbe_gen_task_info task[RBE_GEN_PAPER_TASKS];
} rbe_gen_info;

/* Build the dataset o describes. *out is owned (rbe_dataset_free); info (may be NULL) is filled
 * on success. -EINVAL for options out of range, with e saying which. */
int rbe_gen_build(const rbe_gen_opts *o, rbe_dataset **out, rbe_gen_info *info, rbe_error *e);

/* ---- Calibration report: a dataset measured the way the evaluator measures it ---- */

typedef struct rbe_gen_calib_group {
	char *name;                 /* task group (mmlu-* → mmlu); owned */
	size_t n, n_test;
	double *quality_test;       /* [n_models] mean score over the group's test split */
	double *cost_test;          /* [n_models] summed cost over the test split */
	double *quality_all;        /* [n_models] over every sample of the group */
	double *cost_all;           /* [n_models] */
	double oracle_quality_test, oracle_cost_test;
	double oracle_quality_all, oracle_cost_all;
} rbe_gen_calib_group;

typedef struct rbe_gen_calib {
	uint32_t n_models;
	char **model_names;         /* [n_models] owned copies */
	uint32_t n_groups;
	rbe_gen_calib_group *groups; /* [n_groups] in order of first appearance */
} rbe_gen_calib;

/* Measure ds with the default grouping and the paper split (split_seed, train_fraction).
 * Oracle per prompt: the best score, the cheapest model among ties; a prompt every model scores
 * 0 on costs 0. *out owned: rbe_gen_calib_free. */
int rbe_gen_calibration(const rbe_dataset *ds, uint32_t split_seed, double train_fraction,
			rbe_gen_calib **out, rbe_error *e);
void rbe_gen_calib_free(rbe_gen_calib *c); /* accepts NULL */
/* Print the table: per task and model the generated quality and cost_total next to Table 1's
 * (Table 1's definition: test split, MT-Bench all 80), then the oracle. Groups or models not in
 * Table 1 are printed without a reference. info (may be NULL) adds the tuned noise per task. */
void rbe_gen_calib_print(const rbe_gen_calib *c, const rbe_gen_info *info, FILE *out);

#endif
