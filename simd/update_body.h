/* The fused optimizer update (simd.h: fused_update), one body for every rule and every ISA:
 * included by simd_kernels_body.h after its sums and loads. Each rule is a few inline
 * per-vector operations (upd_state, upd_step); the row skeleton around them is shared. The
 * rule and the GC mode are constants at every inner call (always inlined), so each
 * combination compiles to its own loop without the others' work.
 *
 * The skeleton is software-pipelined by rows. GC on the gradient: the pass updating row r
 * also sums row r+1's gradient. GC on the update: the pass applying row r's centralized step
 * also advances row r+1's state and sums its step; the step is computed again, identically,
 * from the advanced state when it is applied, so nothing is stored between the two. Either
 * way each row is read from memory once and re-read from cache a row later. */
#define UPD_INLINE static inline __attribute__((always_inline))

typedef struct {
    vf lr, decay, one_minus_decay, one_minus_decay2, alpha, eps, wd;
    bool decoupled, coupled; /* weight decay: on the weights before the step, or in the gradient */
} upd_consts;

UPD_INLINE upd_consts upd_consts_of(const update_hparams *hp)
{
    return (upd_consts){.lr = vf_set1(hp->lr), .decay = vf_set1(hp->decay),
                        .one_minus_decay = vf_set1(hp->one_minus_decay),
                        .one_minus_decay2 = vf_set1(hp->one_minus_decay2), .alpha = vf_set1(hp->alpha),
                        .eps = vf_set1(hp->eps), .wd = vf_set1(hp->wd),
                        .decoupled = hp->wd != 0.0f && !hp->wd_coupled, .coupled = hp->wd != 0.0f && hp->wd_coupled};
}

UPD_INLINE int upd_slots(update_rule rule) { return rule == RULE_SGD ? 0 : rule == RULE_ADAM ? 2 : 1; }

/* Whether the step is added to w (Keras's momentum rules) rather than subtracted. */
UPD_INLINE bool upd_adds(update_rule rule) { return rule == RULE_MOMENTUM || rule == RULE_NESTEROV; }

/* The gradient the rule sees: plus wd*w in the coupled form. */
UPD_INLINE vf upd_grad(const upd_consts *k, vf g, vf w) { return k->coupled ? vf_add(g, vf_mul(k->wd, w)) : g; }

/* Advances the state by gradient g. */
UPD_INLINE void upd_state(update_rule rule, const upd_consts *k, vf g, vf *s0, vf *s1)
{
    switch (rule) {
    case RULE_MOMENTUM:
    case RULE_NESTEROV: *s0 = vf_sub(vf_mul(*s0, k->decay), vf_mul(g, k->lr)); break;
    case RULE_RMSPROP: *s0 = vf_add(vf_mul(k->decay, *s0), vf_mul(k->one_minus_decay, vf_mul(g, g))); break;
    case RULE_ADAM:
        *s0 = vf_add(*s0, vf_mul(vf_sub(g, *s0), k->one_minus_decay));
        *s1 = vf_add(*s1, vf_mul(vf_sub(vf_mul(g, g), *s1), k->one_minus_decay2));
        break;
    case RULE_ADAGRAD: *s0 = vf_add(*s0, vf_mul(g, g)); break;
    default: break;
    }
}

/* The step, from the advanced state. */
UPD_INLINE vf upd_step(update_rule rule, const upd_consts *k, vf g, vf s0, vf s1)
{
    switch (rule) {
    case RULE_MOMENTUM: return s0;
    case RULE_NESTEROV: return vf_sub(vf_mul(s0, k->decay), vf_mul(g, k->lr));
    case RULE_RMSPROP:
    case RULE_ADAGRAD: return vf_div(vf_mul(k->lr, g), vf_sqrt(vf_add(s0, k->eps)));
    case RULE_ADAM: return vf_div(vf_mul(s0, k->alpha), vf_add(vf_sqrt(s1), k->eps));
    default: return vf_mul(g, k->lr);
    }
}

/* w after decoupled weight decay and the step. */
UPD_INLINE vf upd_apply(update_rule rule, const upd_consts *k, vf w, vf step)
{
    if (k->decoupled) w = vf_sub(w, vf_mul(vf_mul(w, k->wd), k->lr));
    return upd_adds(rule) ? vf_add(w, step) : vf_sub(w, step);
}

/* One row's arrays (the slots NULL when the rule has none). */
typedef struct {
    float *w, *s0, *s1;
    const float *g;
} upd_row;

UPD_INLINE upd_row upd_row_at(update_rule rule, float *w, float *s0, float *s1, const float *g, size_t off)
{
    return (upd_row){w + off, upd_slots(rule) > 0 ? s0 + off : NULL, upd_slots(rule) > 1 ? s1 + off : NULL, g + off};
}

UPD_INLINE void upd_store(float *p, size_t i, size_t m, vf x)
{
    if (m == VF_LANES)
        vf_storeu(p + i, x);
    else
        vf_store_part(p + i, x, m);
}

/* The lanes past m as 0 (a tail's step, before it is summed). */
UPD_INLINE vf upd_first(vf x, size_t m)
{
    if (m == VF_LANES) return x;
    float buf[VF_LANES];
    vf_storeu(buf, x);
    return vf_load_part(buf, m);
}

/* The whole update of elements [i, i+m), m <= VF_LANES, on the gradient minus mean when
 * centered. */
UPD_INLINE void upd_full_at(update_rule rule, const upd_consts *k, const upd_row *r, size_t i, size_t m,
                            bool centered, vf mean)
{
    vf w = load_upto(r->w, i, m), g = upd_grad(k, load_upto(r->g, i, m), w), s0 = w, s1 = w;
    if (centered) g = vf_sub(g, mean);
    if (upd_slots(rule) > 0) s0 = load_upto(r->s0, i, m);
    if (upd_slots(rule) > 1) s1 = load_upto(r->s1, i, m);
    upd_state(rule, k, g, &s0, &s1);
    if (upd_slots(rule) > 0) upd_store(r->s0, i, m, s0);
    if (upd_slots(rule) > 1) upd_store(r->s1, i, m, s1);
    upd_store(r->w, i, m, upd_apply(rule, k, w, upd_step(rule, k, g, s0, s1)));
}

/* GC on the update, first half: advances the state of [i, i+m) and returns the step (0 past m). */
UPD_INLINE vf upd_advance_at(update_rule rule, const upd_consts *k, const upd_row *r, size_t i, size_t m)
{
    vf w = load_upto(r->w, i, m), g = upd_grad(k, load_upto(r->g, i, m), w), s0 = w, s1 = w;
    if (upd_slots(rule) > 0) s0 = load_upto(r->s0, i, m);
    if (upd_slots(rule) > 1) s1 = load_upto(r->s1, i, m);
    upd_state(rule, k, g, &s0, &s1);
    if (upd_slots(rule) > 0) upd_store(r->s0, i, m, s0);
    if (upd_slots(rule) > 1) upd_store(r->s1, i, m, s1);
    return upd_first(upd_step(rule, k, g, s0, s1), m);
}

/* GC on the update, second half: the step again from the advanced state, minus the row's
 * mean, applied. */
UPD_INLINE void upd_finish_at(update_rule rule, const upd_consts *k, const upd_row *r, size_t i, size_t m, vf mean)
{
    vf w = load_upto(r->w, i, m), g = upd_grad(k, load_upto(r->g, i, m), w), s0 = w, s1 = w;
    if (upd_slots(rule) > 0) s0 = load_upto(r->s0, i, m);
    if (upd_slots(rule) > 1) s1 = load_upto(r->s1, i, m);
    upd_store(r->w, i, m, upd_apply(rule, k, w, vf_sub(upd_step(rule, k, g, s0, s1), mean)));
}

/* The gradient the rule sees at [i, i+m) (0 past m), for the next row's sum. */
UPD_INLINE vf upd_grad_at(const upd_consts *k, const upd_row *r, size_t i, size_t m)
{
    return upd_grad(k, load_upto(r->g, i, m), load_upto(r->w, i, m));
}

/* Two vectors into the sum, as vsum_add2 adds them from memory. */
UPD_INLINE void vsum_add2v(vsum *s, vf x, vf y)
{
    s->a0 = vd_add_lo(s->a0, x);
    s->a1 = vd_add_hi(s->a1, x);
    s->a2 = vd_add_lo(s->a2, y);
    s->a3 = vd_add_hi(s->a3, y);
}

/* The full update of a row of n elements (GC off or on the gradient); when next, the same
 * pass sums next's gradient (n elements) into *s. */
UPD_INLINE void upd_span_gradient(update_rule rule, const upd_consts *k, const upd_row *r, size_t n,
                                  bool centered, vf mean, const upd_row *next, vsum *s)
{
    size_t i = 0;
    for (; i + 2 * VF_LANES <= n; i += 2 * VF_LANES) {
        if (next && k->coupled)
            vsum_add2v(s, upd_grad_at(k, next, i, VF_LANES), upd_grad_at(k, next, i + VF_LANES, VF_LANES));
        else if (next)
            vsum_add2(s, next->g + i);
        upd_full_at(rule, k, r, i, VF_LANES, centered, mean);
        upd_full_at(rule, k, r, i + VF_LANES, VF_LANES, centered, mean);
    }
    for (; i < n; i += VF_LANES) {
        size_t m = lanes_left(i, n);
        if (next) vsum_add1(s, upd_grad_at(k, next, i, m));
        upd_full_at(rule, k, r, i, m, centered, mean);
    }
}

/* GC on the update over rows of n elements: finishes r (when given) with its step's mean,
 * and advances next (when given), summing its steps into *s. */
UPD_INLINE void upd_span_update(update_rule rule, const upd_consts *k, const upd_row *r, vf mean,
                                const upd_row *next, vsum *s, size_t n)
{
    size_t i = 0;
    for (; i + 2 * VF_LANES <= n; i += 2 * VF_LANES) {
        if (next)
            vsum_add2v(s, upd_advance_at(rule, k, next, i, VF_LANES), upd_advance_at(rule, k, next, i + VF_LANES, VF_LANES));
        if (r) {
            upd_finish_at(rule, k, r, i, VF_LANES, mean);
            upd_finish_at(rule, k, r, i + VF_LANES, VF_LANES, mean);
        }
    }
    for (; i < n; i += VF_LANES) {
        size_t m = lanes_left(i, n);
        if (next) vsum_add1(s, upd_advance_at(rule, k, next, i, m));
        if (r) upd_finish_at(rule, k, r, i, m, mean);
    }
}

/* The gradient's row mean, summed as the pipelined passes sum it. */
UPD_INLINE float upd_grad_mean(const upd_consts *k, const upd_row *r, size_t cols)
{
    if (!k->coupled) return row_mean(r->g, cols);
    vsum s = vsum_zero();
    size_t i = 0;
    for (; i + 2 * VF_LANES <= cols; i += 2 * VF_LANES)
        vsum_add2v(&s, upd_grad_at(k, r, i, VF_LANES), upd_grad_at(k, r, i + VF_LANES, VF_LANES));
    for (; i < cols; i += VF_LANES) vsum_add1(&s, upd_grad_at(k, r, i, lanes_left(i, cols)));
    return (float)(vsum_total(&s) / (double)cols);
}

UPD_INLINE void upd_rows(update_rule rule, float *w, float *s0, float *s1, const float *g, size_t rows,
                         size_t cols, gc_mode gc, const update_hparams *hp)
{
    upd_consts k = upd_consts_of(hp);
    vf zero = vf_set1(0.0f);
    if (gc == GC_OFF) {
        upd_row all = upd_row_at(rule, w, s0, s1, g, 0);
        upd_span_gradient(rule, &k, &all, rows * cols, false, zero, NULL, NULL);
        return;
    }
    if (rows == 0) return;
    upd_row cur = upd_row_at(rule, w, s0, s1, g, 0);
    if (gc == GC_ON_GRADIENT) {
        float mean = upd_grad_mean(&k, &cur, cols);
        for (size_t r = 0; r + 1 < rows; r++) {
            size_t off = r * cols;
            upd_row below = upd_row_at(rule, w, s0, s1, g, off + cols);
            vsum next = vsum_zero();
            upd_span_gradient(rule, &k, &cur, cols, true, vf_set1(mean), &below, &next);
            mean = (float)(vsum_total(&next) / (double)cols);
            cur = below;
        }
        upd_span_gradient(rule, &k, &cur, cols, true, vf_set1(mean), NULL, NULL);
        return;
    }
    vsum first = vsum_zero();
    upd_span_update(rule, &k, NULL, zero, &cur, &first, cols);
    float mean = (float)(vsum_total(&first) / (double)cols);
    for (size_t r = 0; r + 1 < rows; r++) {
        upd_row next = upd_row_at(rule, w, s0, s1, g, (r + 1) * cols);
        vsum sum = vsum_zero();
        upd_span_update(rule, &k, &cur, vf_set1(mean), &next, &sum, cols);
        mean = (float)(vsum_total(&sum) / (double)cols);
        cur = next;
    }
    upd_span_update(rule, &k, &cur, vf_set1(mean), NULL, NULL, cols);
}

static void K(fused_update)(float *w, float *s0, float *s1, const float *g, size_t rows, size_t cols, gc_mode gc,
                            const update_hparams *hp)
{
    switch (hp->rule) {
    case RULE_SGD: upd_rows(RULE_SGD, w, s0, s1, g, rows, cols, gc, hp); break;
    case RULE_MOMENTUM: upd_rows(RULE_MOMENTUM, w, s0, s1, g, rows, cols, gc, hp); break;
    case RULE_NESTEROV: upd_rows(RULE_NESTEROV, w, s0, s1, g, rows, cols, gc, hp); break;
    case RULE_RMSPROP: upd_rows(RULE_RMSPROP, w, s0, s1, g, rows, cols, gc, hp); break;
    case RULE_ADAM: upd_rows(RULE_ADAM, w, s0, s1, g, rows, cols, gc, hp); break;
    case RULE_ADAGRAD: upd_rows(RULE_ADAGRAD, w, s0, s1, g, rows, cols, gc, hp); break;
    default: break;
    }
}
