/* gen_tables.c — RouterBench's Table 1, prices and task sizes, and the prompt vocabularies. */
#include <string.h>

#include "data/gen.h"

/* Source: Hu et al., "RouterBench" (arXiv 2403.12031v2), Table 1; prices per 1M tokens that
 * reproduce the released per-sample costs (docs/generator.md). tests/test_gen.c checks them
 * against a machine-readable copy of the paper's figures when one is present beside the tree. */
const char *const rbe_gen_paper_models[RBE_GEN_PAPER_MODELS] = {
	"WizardLM/WizardLM-13B-V1.2",
	"mistralai/mistral-7b-chat",
	"mistralai/mixtral-8x7b-chat",
	"meta/code-llama-instruct-34b-chat",
	"zero-one-ai/Yi-34B-Chat",
	"gpt-3.5-turbo-1106",
	"claude-instant-v1",
	"meta/llama-2-70b-chat",
	"claude-v1",
	"claude-v2",
	"gpt-4-1106-preview",
};

const double rbe_gen_paper_prices[RBE_GEN_PAPER_MODELS][2] = {
	{0.3, 0.3},     /* WizardLM/WizardLM-13B-V1.2 */
	{0.2, 0.2},     /* mistralai/mistral-7b-chat */
	{0.6, 0.6},     /* mistralai/mixtral-8x7b-chat */
	{0.776, 0.776}, /* meta/code-llama-instruct-34b-chat */
	{0.8, 0.8},     /* zero-one-ai/Yi-34B-Chat */
	{1, 2},         /* gpt-3.5-turbo-1106 */
	{0.8, 2.4},     /* claude-instant-v1 */
	{0.9, 0.9},     /* meta/llama-2-70b-chat */
	{8, 24},        /* claude-v1 */
	{8, 24},        /* claude-v2 */
	{10, 30},       /* gpt-4-1106-preview */
};

const char *const rbe_gen_paper_tasks[RBE_GEN_PAPER_TASKS] = {
	"mmlu", "mt-bench", "mbpp", "hellaswag", "winogrande", "grade-school-math", "arc-challenge",
};

const size_t rbe_gen_paper_counts[RBE_GEN_PAPER_TASKS] = {14042, 80, 427, 10042, 1267, 7450, 1470};

/* {quality, cost_total_usd} per task, tasks in rbe_gen_paper_tasks order. */
const rbe_gen_cell rbe_gen_table1[RBE_GEN_PAPER_MODELS + 1][RBE_GEN_PAPER_TASKS] = {
	{{0.568, 0.122}, {0.796, 0.006}, {0.364, 0.011}, {0.636, 0.727}, {0.512, 0.04}, {0.51, 0.354}, {0.66, 0.068}},
	{{0.562, 0.081}, {0.779, 0.003}, {0.349, 0.006}, {0.541, 0.485}, {0.562, 0.027}, {0.409, 0.21}, {0.642, 0.046}},
	{{0.733, 0.245}, {0.921, 0.012}, {0.573, 0.023}, {0.707, 1.455}, {0.677, 0.081}, {0.515, 0.594}, {0.844, 0.137}},
	{{0.569, 0.317}, {0.796, 0.015}, {0.465, 0.021}, {0.525, 1.882}, {0.617, 0.104}, {0.462, 0.752}, {0.644, 0.177}},
	{{0.743, 0.326}, {0.938, 0.018}, {0.333, 0.031}, {0.931, 1.938}, {0.748, 0.107}, {0.552, 0.867}, {0.882, 0.182}},
	{{0.72, 0.408}, {0.908, 0.026}, {0.651, 0.044}, {0.816, 2.426}, {0.63, 0.134}, {0.601, 1.17}, {0.855, 0.228}},
	{{0.384, 0.327}, {0.863, 0.03}, {0.55, 0.064}, {0.801, 1.943}, {0.512, 0.108}, {0.626, 1.3}, {0.821, 0.183}},
	{{0.647, 0.367}, {0.854, 0.022}, {0.302, 0.039}, {0.736, 2.183}, {0.504, 0.121}, {0.529, 0.87}, {0.794, 0.205}},
	{{0.475, 3.269}, {0.938, 0.361}, {0.527, 0.607}, {0.841, 19.43}, {0.57, 1.077}, {0.653, 11.09}, {0.889, 1.829}},
	{{0.619, 3.27}, {0.854, 0.277}, {0.605, 0.77}, {0.421, 19.5}, {0.446, 1.081}, {0.664, 13.49}, {0.546, 1.833}},
	{{0.828, 4.086}, {0.971, 0.721}, {0.682, 1.235}, {0.923, 24.29}, {0.858, 1.346}, {0.654, 19.08}, {0.921, 2.286}},
	/* oracle */
	{{0.957, 0.297}, {0.996, 0.052}, {0.899, 0.041}, {0.994, 0.86}, {1, 0.042}, {0.748, 1.282}, {0.977, 0.091}},
};

/* MMLU's 57 subjects and their test-set sizes (the released RouterBench split keeps all 14,042). */
const char *const rbe_gen_mmlu_subjects[RBE_GEN_MMLU_SUBJECTS] = {
	"abstract-algebra", "anatomy", "astronomy", "business-ethics", "clinical-knowledge",
	"college-biology", "college-chemistry", "college-computer-science", "college-mathematics",
	"college-medicine", "college-physics", "computer-security", "conceptual-physics", "econometrics",
	"electrical-engineering", "elementary-mathematics", "formal-logic", "global-facts",
	"high-school-biology", "high-school-chemistry", "high-school-computer-science",
	"high-school-european-history", "high-school-geography", "high-school-government-and-politics",
	"high-school-macroeconomics", "high-school-mathematics", "high-school-microeconomics",
	"high-school-physics", "high-school-psychology", "high-school-statistics", "high-school-us-history",
	"high-school-world-history", "human-aging", "human-sexuality", "international-law", "jurisprudence",
	"logical-fallacies", "machine-learning", "management", "marketing", "medical-genetics",
	"miscellaneous", "moral-disputes", "moral-scenarios", "nutrition", "philosophy", "prehistory",
	"professional-accounting", "professional-law", "professional-medicine", "professional-psychology",
	"public-relations", "security-studies", "sociology", "us-foreign-policy", "virology",
	"world-religions",
};

const uint32_t rbe_gen_mmlu_counts[RBE_GEN_MMLU_SUBJECTS] = {
	100, 135, 152, 100, 265, 144, 100, 100, 100, 173, 102, 100, 235, 114, 145, 378, 126, 100, 310,
	203, 100, 165, 198, 193, 390, 270, 238, 151, 545, 216, 204, 237, 223, 131, 121, 108, 163, 112,
	103, 234, 100, 783, 346, 895, 306, 311, 324, 282, 1534, 272, 612, 110, 245, 201, 100, 166, 171,
};

const rbe_gen_vocab rbe_gen_task_vocab[RBE_GEN_PAPER_TASKS] = {
	{"mmlu", "question following statement correct answer choices options"},
	{"mt-bench", "please write explain describe help response assistant"},
	{"mbpp", "write python function returns given tests assert"},
	{"hellaswag", "then next person continues scene ending video"},
	{"winogrande", "because sentence blank option refers pronoun fill"},
	{"grade-school-math", "how many much total each altogether remaining"},
	{"arc-challenge", "which best explains student scientists observed investigation"},
};

/* Subject words: the generator adds the words of the subject's own name. */
const rbe_gen_vocab rbe_gen_mmlu_vocab[RBE_GEN_MMLU_SUBJECTS] = {
	{"abstract-algebra", "group ring field homomorphism subgroup polynomial isomorphism"},
	{"anatomy", "bone muscle nerve artery organ tissue skeletal"},
	{"astronomy", "planet star galaxy orbit telescope comet solar"},
	{"business-ethics", "corporate stakeholder responsibility bribery governance fairness"},
	{"clinical-knowledge", "patient diagnosis symptom treatment nurse blood"},
	{"college-biology", "cell gene protein enzyme evolution membrane"},
	{"college-chemistry", "molecule reaction bond electron acid equilibrium"},
	{"college-computer-science", "algorithm complexity compiler graph recursion binary"},
	{"college-mathematics", "integral matrix eigenvalue derivative series topology"},
	{"college-medicine", "physiology metabolism hormone receptor dosage syndrome"},
	{"college-physics", "momentum energy quantum particle wave relativity"},
	{"computer-security", "encryption attack malware vulnerability password firewall"},
	{"conceptual-physics", "force gravity motion heat light pressure"},
	{"econometrics", "regression estimator variance autocorrelation stationary coefficient"},
	{"electrical-engineering", "circuit voltage current resistor capacitor transistor"},
	{"elementary-mathematics", "addition fraction multiply divide percent perimeter"},
	{"formal-logic", "premise conclusion valid predicate negation argument"},
	{"global-facts", "population country world survey income statistics"},
	{"high-school-biology", "photosynthesis organism ecosystem mitosis inheritance species"},
	{"high-school-chemistry", "atom element periodic solution mole compound"},
	{"high-school-computer-science", "program loop variable array python code"},
	{"high-school-european-history", "revolution empire treaty monarchy reformation europe"},
	{"high-school-geography", "climate region migration urban landform map"},
	{"high-school-government-and-politics", "congress constitution amendment court election federal"},
	{"high-school-macroeconomics", "inflation unemployment monetary fiscal gdp recession"},
	{"high-school-mathematics", "equation quadratic triangle probability slope graph"},
	{"high-school-microeconomics", "demand supply elasticity monopoly price market"},
	{"high-school-physics", "velocity acceleration lens friction projectile spring"},
	{"high-school-psychology", "behavior memory cognition conditioning personality perception"},
	{"high-school-statistics", "sample mean distribution hypothesis confidence deviation"},
	{"high-school-us-history", "colonies civil reconstruction president frontier slavery"},
	{"high-school-world-history", "civilization dynasty trade colonialism ancient empire"},
	{"human-aging", "elderly dementia retirement longevity decline older"},
	{"human-sexuality", "sexual gender relationship reproductive intimacy orientation"},
	{"international-law", "treaty sovereignty jurisdiction convention tribunal customary"},
	{"jurisprudence", "justice rights legal positivism natural theory"},
	{"logical-fallacies", "fallacy strawman hominem appeal slippery reasoning"},
	{"machine-learning", "neural training gradient overfitting classifier dataset"},
	{"management", "manager organization leadership strategy team motivation"},
	{"marketing", "brand consumer advertising segment promotion product"},
	{"medical-genetics", "mutation allele chromosome inherited dominant recessive"},
	{"miscellaneous", "trivia famous city invented known popular"},
	{"moral-disputes", "ethics abortion euthanasia moral rights argument"},
	{"moral-scenarios", "scenario wrong ordinary standards morally character"},
	{"nutrition", "vitamin diet protein calorie mineral fiber"},
	{"philosophy", "knowledge metaphysics socrates kant virtue existence"},
	{"prehistory", "neolithic hominin archaeological paleolithic tools settlement"},
	{"professional-accounting", "audit asset liability revenue depreciation ledger"},
	{"professional-law", "plaintiff defendant contract negligence statute tort"},
	{"professional-medicine", "physician examination laboratory presentation therapy mg"},
	{"professional-psychology", "therapist assessment disorder counseling client ethics"},
	{"public-relations", "media communication campaign reputation press audience"},
	{"security-studies", "military deterrence conflict nuclear strategy war"},
	{"sociology", "society social class institution culture inequality"},
	{"us-foreign-policy", "diplomacy foreign alliance cold doctrine sanctions"},
	{"virology", "virus viral infection vaccine replication pathogen"},
	{"world-religions", "religion buddhism hinduism islam scripture ritual"},
};

/* MT-Bench's eight categories, ten questions each. */
static const rbe_gen_vocab mtbench_topics[] = {
	{"writing", "essay blog story poem draft persuasive"},
	{"roleplay", "pretend character role imagine persona act"},
	{"reasoning", "puzzle deduce riddle logic infer scenario"},
	{"math", "solve equation compute prove integer geometry"},
	{"coding", "code function program implement bug debug"},
	{"extraction", "extract json table fields summarize document"},
	{"stem", "scientist physics biology experiment engineering explain"},
	{"humanities", "history culture philosophy economics art society"},
};

static const rbe_gen_vocab mbpp_topics[] = {
	{"strings", "string character substring uppercase vowels replace"},
	{"lists", "list element tuple index append nested"},
	{"numbers", "integer prime digit divisor factorial sum"},
	{"sorting", "sort ascending order heap minimum maximum"},
	{"dictionaries", "dictionary key value count frequency map"},
	{"recursion", "recursive sequence fibonacci path matrix dynamic"},
};

static const rbe_gen_vocab hellaswag_topics[] = {
	{"cooking", "kitchen bowl ingredients chef stir oven"},
	{"sports", "ball player team field throws running"},
	{"home", "house cleaning paint floor wall furniture"},
	{"personal-care", "hair makeup skin brush mirror shave"},
	{"outdoors", "lake camping snow beach trail boat"},
	{"family", "kids parents baby dog party holiday"},
};

static const rbe_gen_vocab winogrande_topics[] = {
	{"social", "friend neighbor invited apologized guest rude"},
	{"physical", "heavy fit small large melted broke"},
	{"objects", "box bottle suitcase trophy table window"},
	{"emotions", "angry happy jealous nervous afraid proud"},
	{"work", "job boss interview salary office promotion"},
};

static const rbe_gen_vocab gsm_topics[] = {
	{"shopping", "bought store apples dozen price cost"},
	{"rates", "speed hour miles per rate travels"},
	{"fractions", "half third fraction quarter percent share"},
	{"time", "minutes days week schedule hours late"},
	{"money", "dollars saves earns spends wage budget"},
	{"ages", "years older younger age twice born"},
};

static const rbe_gen_vocab arc_topics[] = {
	{"physical-science", "energy force magnet electricity sound motion"},
	{"life-science", "plant animal cell organism trait inherited"},
	{"earth-science", "rock soil erosion weather volcano mineral"},
	{"chemistry", "substance mixture chemical property gas liquid"},
	{"space", "moon sun earth orbit season planet"},
	{"ecology", "habitat food chain environment population resource"},
};

#define COUNT(a) ((uint32_t)(sizeof(a) / sizeof((a)[0])))

const rbe_gen_vocab *const rbe_gen_topic_vocab[RBE_GEN_PAPER_TASKS] = {
	rbe_gen_mmlu_vocab, mtbench_topics, mbpp_topics, hellaswag_topics,
	winogrande_topics, gsm_topics, arc_topics,
};

const uint32_t rbe_gen_topic_count[RBE_GEN_PAPER_TASKS] = {
	RBE_GEN_MMLU_SUBJECTS, COUNT(mtbench_topics), COUNT(mbpp_topics), COUNT(hellaswag_topics),
	COUNT(winogrande_topics), COUNT(gsm_topics), COUNT(arc_topics),
};

const rbe_gen_vocab rbe_gen_level_vocab[3] = {
	{"easy", "simple basic quick short common everyday"},
	{"medium", "consider determine compare describe typical several"},
	{"hard", "complex advanced rigorous multistep subtle tricky"},
};

const char rbe_gen_filler_words[] =
	"the a of and to in is that for it with as on this be are by an from at or which when what "
	"was were has have will would can could should there their about into than then";

int rbe_gen_paper_task_index(const char *task)
{
	for (int t = 0; t < RBE_GEN_PAPER_TASKS; t++)
		if (!strcmp(rbe_gen_paper_tasks[t], task))
			return t;
	return -1;
}

int rbe_gen_paper_model_index(const char *model)
{
	for (int j = 0; j < RBE_GEN_PAPER_MODELS; j++)
		if (!strcmp(rbe_gen_paper_models[j], model))
			return j;
	return -1;
}

const rbe_gen_cell *rbe_gen_table1_lookup(const char *model, const char *task)
{
	int t = rbe_gen_paper_task_index(task);
	int j = strcmp(model, "oracle") ? rbe_gen_paper_model_index(model) : RBE_GEN_PAPER_MODELS;
	if (t < 0 || j < 0)
		return NULL;
	return &rbe_gen_table1[j][t];
}

size_t rbe_gen_paper_n_test(int task)
{
	size_t n = rbe_gen_paper_counts[task];
	if (!strcmp(rbe_gen_paper_tasks[task], "mt-bench"))
		return n;
	/* Integer form of n − floor(0.7·n), free of floating-point edge cases. */
	return n - (n * 7) / 10;
}
