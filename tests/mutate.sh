#!/usr/bin/env bash
# The mutation check: does the test suite fail when the code is wrong?
#
# Each mutant below is one wrong change to one line of the engine, the SIMD kernels, the
# loader, the checkpoint or the command line. For each, the script applies it to a scratch
# copy of this working tree, builds the preset it names and runs that preset's whole test
# suite (ctest, stopping at the first failure, under a time limit per mutant). A mutant is
# caught when the build succeeds and some test fails or times out; missed when every test
# passes. The score is caught / (caught + missed). Run on demand (it takes a while), not in CI:
#
#   bash tests/mutate.sh                 every mutant
#   bash tests/mutate.sh NAME...         only these
#   bash tests/mutate.sh --list          the names
#   bash tests/mutate.sh --check         that every search text occurs once, without building
#   MUTATE_TESTS=REGEX bash tests/mutate.sh NAME   only the tests matching REGEX (quicker,
#                                        for checking one test against its mutant; no score)
#
# A line of the list: name @@ preset @@ file @@ search text @@ replacement. The search text
# must occur exactly once in the file. A sixth field, "equivalent: why", marks a mutant that
# changes no observable behaviour: it is run and reported, but not scored. "needs FLAG: why"
# marks one that only a CPU with FLAG (a /proc/cpuinfo flag) can observe: scored there,
# elsewhere run and reported like an equivalent one.
set -u
{ # read whole before running: editing this file during a run must not change the run

mutants() {
  cat <<'EOF'
gc-scope-ignored @@ release @@ engine/optim/optimizer.c @@ if (s == GC_SCOPE_ALL) return true; @@ return true;
gc-on-biases @@ release @@ engine/optim/optimizer.c @@ if (t->rank < 2) return false; @@ if (t->rank < 1) return false;
split-skips-gc @@ release @@ engine/optim/optimizer.c @@ } else if (gc_applies(opt->scope, t)) { @@ } else if (0) {
split-row-bounds @@ release @@ engine/optim/optimizer.c @@ update_rows(opt, ps, i, t->rows * part / parts, t->rows * (part + 1) / parts); @@ update_rows(opt, ps, i, t->rows * part / parts, t->rows * (part + 1) / parts - (part + 1 < parts));
chunk-tail-dropped @@ release @@ engine/optim/optimizer.c @@ size_t chunks = (t->count + CHUNK_ELEMS - 1) / CHUNK_ELEMS; @@ size_t chunks = t->count / CHUNK_ELEMS;
unfused-centralize-noop @@ release @@ engine/optim/optimizer.c @@ opt->kernels->center_rows(g + r * t->cols, 1, t->cols, &mean); @@ (void)mean;
scalar-mean-divisor @@ release @@ simd/simd_kernels_scalar.c @@ means[r] = (float)(sum / (double)cols); @@ means[r] = (float)(sum / (double)(cols + 1));
scalar-rmsprop-rho @@ release @@ simd/simd_kernels_scalar.c @@ float vn = hp->rho * *v + (1.0f - hp->rho) * (g * g); @@ float vn = (1.0f - hp->rho) * *v + hp->rho * (g * g);
scalar-rmsprop-eps-outside @@ release @@ simd/simd_kernels_scalar.c @@ *w -= (hp->lr * g) / sqrtf(vn + hp->eps); @@ *w -= (hp->lr * g) / (sqrtf(vn) + hp->eps);
scalar-gc-not-subtracted @@ release @@ simd/simd_kernels_scalar.c @@ rmsprop_one(&w[i], &v[i], g[i] - mean, hp); @@ rmsprop_one(&w[i], &v[i], g[i], hp);
simd-center-tail @@ release @@ simd/simd_kernels_body.h @@ if (c < cols) vf_store_part(row + c, vf_sub(vf_load_part(row + c, cols - c), m), cols - c); @@ if (c < cols) vf_store_part(row + c, vf_load_part(row + c, cols - c), cols - c);
simd-next-row-mean @@ release @@ simd/update_body.h @@ mean = (float)(vsum_total(&next) / (double)cols); @@ mean = row_mean(g + off, cols);
simd-sum-one-accumulator-lost @@ release @@ simd/simd_kernels_body.h @@ return vd_reduce(vd_add(vd_add(s->a0, s->a1), vd_add(s->a2, s->a3))); @@ return vd_reduce(vd_add(vd_add(s->a0, s->a1), s->a2));
simd-dispatch-ignores-request @@ release @@ simd/simd_dispatch.c @@ *out = simd_kernels_built(request); @@ *out = simd_best();
loss-mean-over-share @@ release @@ engine/net/loss.c @@ dlogits[i] = (float)((s - y) / (double)mean_over); @@ dlogits[i] = (float)((s - y) / (double)n);
loss-threshold @@ release @@ engine/net/loss.c @@ r.correct += (z > 0.0) == (labels[i] != 0); @@ r.correct += (z >= 0.0) == (labels[i] != 0);
loss-sign @@ release @@ engine/net/loss.c @@ r.loss_sum += fmax(z, 0.0) - z * y + log1p(exp(-fabs(z))); @@ r.loss_sum += fmax(z, 0.0) + z * y + log1p(exp(-fabs(z)));
epoch-last-batch-as-full @@ release @@ engine/train/train.c @@ r.loss = st->loss_sum / (double)st->seen; @@ r.loss = st->loss_sum / (double)(prefetch_batches(tp) * cfg->batch);
train-scope-dropped @@ release @@ engine/train/train.c @@ optimizer opt = {.desc = cfg->optimizer, .hp = cfg->hp, .scope = scope, .kernels = cfg->kernels}; @@ optimizer opt = {.desc = cfg->optimizer, .hp = cfg->hp, .scope = GC_SCOPE_NONE, .kernels = cfg->kernels};
train-dropout-key-per-epoch @@ release @@ engine/train/train.c @@ .noise_key = rng_key(seed, RNG_STREAM_DROPOUT, (uint64_t)epoch, (uint64_t)step), @@ .noise_key = rng_key(seed, RNG_STREAM_DROPOUT, (uint64_t)epoch, 0),
train-val-accuracy @@ release @@ engine/train/train.c @@ *accuracy = (double)correct / (double)seen; @@ *accuracy = (double)correct / (double)(seen + 1);
params-glorot-fan @@ release @@ engine/net/params.c @@ float limit = sqrtf(6.0f / (float)(t->fan_in + t->fan_out)); @@ float limit = sqrtf(6.0f / (float)t->fan_in);
params-rows-axis @@ release @@ engine/net/params.c @@ t->rows = (size_t)dims[0]; @@ t->rows = (size_t)dims[rank - 1];
loader-rescale @@ release @@ io/input/loader.c @@ const float scale = 1.0f / 255.0f; @@ const float scale = 1.0f / 256.0f;
loader-shuffle-fixed @@ release @@ io/input/loader.c @@ uint64_t key = rng_key(ld->seed, RNG_STREAM_SHUFFLE, (uint64_t)epoch, 0); @@ uint64_t key = rng_key(ld->seed, RNG_STREAM_SHUFFLE, 0, 0);
loader-share-offset @@ release @@ io/input/loader.c @@ size_t first = (size_t)step * (size_t)ld->batch + (size_t)share_first, values = dataset_image_bytes(ld->data); @@ size_t first = (size_t)step * (size_t)ld->batch, values = dataset_image_bytes(ld->data);
loader-last-batch @@ release @@ io/input/loader.c @@ return left < (size_t)ld->batch ? (int)left : ld->batch; @@ return left < 1 ? (int)left : ld->batch;
prefetch-stop-no-wake @@ release @@ io/input/prefetch.c @@ p->stop = true; @@ p->stop = false;
checkpoint-no-checksum @@ release @@ engine/train/checkpoint.c @@ if (checkpoint_hash(data + HEADER_BYTES, (size_t)payload) != checksum) @@ if (checkpoint_hash(data + HEADER_BYTES, (size_t)payload) != checksum && payload == 0)
checkpoint-link-not-rename @@ release @@ engine/base/atomic_file.c @@ if (!err && rename(tmp, path) != 0) err = errno; @@ if (!err && link(tmp, path) != 0) err = errno;
checkpoint-tmp-kept-on-failure @@ release @@ engine/base/atomic_file.c @@ unlink(tmp); /* best effort: the error to report is the one above */ @@ (void)tmp;
threads-scatter-as-compact @@ release @@ engine/runtime/threads.c @@ if (policy == PIN_SCATTER) { @@ if (0) {
cli-lr-ignored @@ release @@ benchmarks/gcbench/session_runs.c @@ .optimizer = opt->optimizer, .hp = opt->hp, .kernels = s->kernels}; @@ .optimizer = opt->optimizer, .hp = opt->optimizer->defaults, .kernels = s->kernels};
cli-scope-ignored @@ release @@ benchmarks/gcbench/session_runs.c @@ scopes[runs] = opt->scope @@ scopes[runs] = GC_SCOPE_ALL
cli-no-augment-ignored @@ release @@ benchmarks/gcbench/options.c @@ o->augment = false; @@ o->augment = true;
dropout-no-rescale @@ release @@ engine/net/layers/dropout.c @@ static float dropout_scale(const layer *l) { return 1.0f / (1.0f - l->rate); } @@ static float dropout_scale(const layer *l) { return l->rate > 1.0f ? 0.0f : 1.0f; }
fused-dropout-no-rescale @@ release @@ engine/net/layers/maxpool_fused.c @@ const float scale = d->rate > 0.0f ? 1.0f / (1.0f - d->rate) : 1.0f; @@ const float scale = 1.0f;
resume-rms-state-lost @@ release @@ engine/train/train_checkpoint.c @@ checkpoint_put(b, ps->state[s], ps->total * sizeof(float)); @@ checkpoint_put(b, ps->w, ps->total * sizeof(float));
resume-seen-lost @@ release @@ engine/train/train_checkpoint.c @@ st->seen = checkpoint_get_u64(&c); @@ st->seen = checkpoint_get_u64(&c) / 2;
dist-average-not-sum @@ mpi @@ engine/runtime/dist_mpi.c @@ done += (size_t)count; @@ for (int k = 0; k < count; k++) { buf[done + k] /= (float)ranks_; } done += (size_t)count;
profile-pool-time-lost @@ release @@ engine/net/layers/conv_pool.c @@ if (n->profile) own_time(n, l, false, clock_seconds() - t0); @@ (void)t0;
profile-own-layers-not-own @@ release @@ engine/net/net.c @@ if (l->ops->own_kernels) own[l->index] += t; @@ (void)own;
pool-arg-none-lost @@ release @@ engine/net/layers/pool_rows_body.h @@ arg = (arg & positive) | (4 & ~positive); @@ (void)positive;
pool-draw-counter-off-by-one @@ release @@ engine/net/layers/pool_rows_body.h @@ vq##V z = lane_step + (key + (i / 4 + 1) * RNG_GOLDEN); @@ vq##V z = lane_step + (key + (i / 4) * RNG_GOLDEN);
pool-any-arg-none-lost @@ release @@ engine/net/layers/maxpool_fused.c @@ r->arg[ow * r->X + ci] = best > 0.0f ? arg : POOL_ARG_NONE; @@ r->arg[ow * r->X + ci] = arg;
median-even-upper-middle @@ release @@ engine/base/median.c @@ return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]); @@ return v[n / 2];
median-sorts-descending @@ release @@ engine/base/median.c @@ return (x > y) - (x < y); @@ return (x < y) - (x > y);
neon-tail-store-whole-vector @@ release @@ simd/vec_neon.h @@ memcpy(p, buf, n * sizeof *p); @@ memcpy(p, buf, VF_LANES * sizeof *p);
pool-bf16-store-truncates @@ release @@ engine/net/layers/pool_rows_body.h @@ vu##L kept = exact ? u : u + 0x7fffu + ((u >> 16) & 1u); @@ vu##L kept = u;
pool-bf16-nan-not-quieted @@ release @@ engine/net/layers/pool_rows_body.h @@ return (nan & (u | BF16_QUIET_BIT << 16)) | (~nan & kept); @@ return (nan & u) | (~nan & kept);
pool-bf16-load-shifted-wrong @@ release @@ engine/net/layers/pool_rows_body.h @@ return (vf##V)(u32_from_u16_##V(h) << 16); @@ return (vf##V)(u32_from_u16_##V(h) << 15);
bf16-pool-output-at-float-offsets @@ release @@ engine/net/layers/conv_pool.c @@ maxpool_fused_forward(n->chunk_buf, (char *)l->out_buf + o * es, (uint8_t *)l->workspace + o, &g, &d); @@ maxpool_fused_forward(n->chunk_buf, (char *)l->out_buf + o * es * 2, (uint8_t *)l->workspace + o, &g, &d);
bf16-flatten-keeps-bf16 @@ release @@ engine/net/layers/flatten.c @@ GC_TRY(md_4d(&nhwc, out_md.data_type, b, l->in.c, l->in.h, l->in.w, dnnl_nhwc)); @@ GC_TRY(md_4d(&nhwc, n->act_dt, b, l->in.c, l->in.h, l->in.w, dnnl_nhwc));
bf16-pool-reads-f32 @@ release @@ engine/net/layers/conv_pool.c @@ .elem = n->act_dt == dnnl_bf16 ? POOL_BF16 : POOL_F32}; @@ .elem = POOL_F32};
bf16-checkpoint-forgets-precision @@ release @@ benchmarks/gcbench/checkpoint_session.c @@ LINE("precision=%s\n", precision_name(o->precision)); @@ (void)0;
loader-bf16-writes-f32 @@ release @@ io/input/loader.c @@ if (rc == GC_OK) ld->narrow((bf16 *)input + (size_t)k * values, ld->staged, values); @@ if (rc == GC_OK) memcpy(input, ld->staged, values * sizeof(bf16));
simd-update-mean-not-removed @@ release @@ simd/update_body.h @@ upd_store(r->w, i, m, upd_apply(rule, k, w, vf_sub(upd_step(rule, k, g, s0, s1), mean))); @@ upd_store(r->w, i, m, upd_apply(rule, k, w, upd_step(rule, k, g, s0, s1)));
simd-coupled-mean-of-raw-gradient @@ release @@ simd/update_body.h @@ if (next && k->coupled) @@ if (0)
simd-nesterov-as-momentum @@ release @@ simd/update_body.h @@ case RULE_NESTEROV: return vf_sub(vf_mul(s0, k->decay), vf_mul(g, k->lr)); @@ case RULE_NESTEROV: return s0;
scalar-adam-eps-inside @@ release @@ simd/simd_kernels_scalar.c @@ case RULE_ADAM: return (s0 * hp->alpha) / (sqrtf(s1) + hp->eps); @@ case RULE_ADAM: return (s0 * hp->alpha) / sqrtf(s1 + hp->eps);
scalar-decay-sign @@ release @@ simd/simd_kernels_scalar.c @@ if (hp->wd != 0.0f && !hp->wd_coupled) w = w - w * hp->wd * hp->lr; @@ if (hp->wd != 0.0f && !hp->wd_coupled) w = w + w * hp->wd * hp->lr;
adam-no-bias-correction @@ release @@ engine/optim/adam.c @@ .alpha = lr * sqrtf(1.0f - b2t) / (1.0f - b1t) @@ .alpha = lr * sqrtf(1.0f - b2t) / (1.0f - b1t * 0.0f)
optimizer-gc-on-ignored @@ release @@ engine/optim/optimizer.c @@ gc_mode gc = !centered ? GC_OFF : opt->gc_on_update ? GC_ON_UPDATE : GC_ON_GRADIENT; @@ gc_mode gc = !centered ? GC_OFF : GC_ON_GRADIENT;
adagrad-accumulator-reset-on-resume @@ release @@ engine/optim/optimizer.c @@ if (ps->updates == 0 && opt->desc->init_state) @@ if (opt->desc->init_state)
resume-step-count-halved @@ release @@ engine/train/train_checkpoint.c @@     ps->updates = updates; @@     ps->updates = updates / 2;
cli-optimizer-flag-unchecked @@ release @@ benchmarks/gcbench/options.c @@ if (given[k] && !(d->reads & hp_flags[k].reads)) @@ if (0)
cli-gc-on-dropped @@ release @@ benchmarks/gcbench/session_runs.c @@     tc.gc_on_update = opt->gc_on_update; @@     tc.gc_on_update = false;
bf16-layout-not-rechosen @@ release @@ engine/net/net.c @@ n->act_tag = net_native_layout(act); @@ n->act_tag = n->act_tag; @@ needs amx_bf16: without AMX bf16 trains in the f32 layout, so no layout changes
pool-rows-64-as-32 @@ release @@ engine/net/layers/pool_rows.h @@ X == 32 ? 2 : X == 64 ? 3 : -1; @@ X == 32 ? 2 : X == 64 ? 2 : -1;
bf16-first-layer-dx-not-widened @@ release @@ engine/net/layers/conv_pool.c @@ g.dx_f32 = st->wgrad_f32; @@ g.dx_f32 = false;
pool-widening-as-bf16 @@ release @@ engine/net/layers/maxpool_fused.c @@ return e == dx ? k->backward[w][e] : k->backward_widening[w]; @@ return k->backward[w][e];
step-skips-bf16-copy @@ release @@ engine/optim/optimizer.c @@ opt->kernels->f32_to_bf16(param_w_bf16(ps, i) + off, param_w(ps, i) + off, rows * cols); @@ (void)off;
bf16-stale-copy-not-remade @@ release @@ engine/net/layers/conv_pool.c @@ if (n->weight_dt == dnnl_bf16 && !params_bf16_copy_current(&n->params)) { @@ if (0) {
plan-chunk-gradient-overwrites @@ release @@ engine/net/layers/conv_pool.c @@ accumulate(st->dw_acc, st->dw_chunk_buf, st->dw_elems, k == 0); @@ accumulate(st->dw_acc, st->dw_chunk_buf, st->dw_elems, true);
bf16-first-layer-f32-copies-in-any-layout @@ release @@ engine/net/precision.c @@ return act_dt == dnnl_bf16 && act_tag == dnnl_nhwc && !input_grad; @@ return act_dt == dnnl_bf16 && !input_grad;
pool-avx512-keep-fields-sign-extended @@ release @@ engine/net/layers/pool_rows_convert.h @@ return (vu16)_mm512_cvtepu16_epi32((__m256i)h); @@ return (vu16)_mm512_cvtepi16_epi32((__m256i)h);
pool-avx2-narrowing-halves-swapped @@ release @@ engine/net/layers/pool_rows_convert.h @@ _mm256_permute4x64_epi64(p, 0x08) @@ _mm256_permute4x64_epi64(p, 0x02)
pool-avx2-codes-from-wrong-bytes @@ release @@ engine/net/layers/pool_rows_convert.h @@ const __m256i pick = _mm256_setr_epi8(0, 4, 8, 12, @@ const __m256i pick = _mm256_setr_epi8(0, 4, 12, 8,
dropout-channels-last-ignores-first @@ release @@ engine/net/layers/dropout.c @@ make_mask_channels_last(mask, total, (uint64_t)(s->first * s->h * s->w * s->c), threshold, key); @@ make_mask_channels_last(mask, total, 0, threshold, key);
dropout-channels-last-draw-boundary @@ release @@ engine/net/layers/dropout.c @@ if (j > 0 && i % 4 == 0) r = rng_u64(key, i / 4); @@ if (j > 0 && i % 4 == 1) r = rng_u64(key, i / 4);
pool-bf16-odd-channels-as-even @@ release @@ engine/net/layers/pool_rows_body.h @@ *odd = (vf##L)(w & 0xffff0000u); @@ *odd = (vf##L)(w << 16);
pool-bf16-pair-draw-counter-off-by-one @@ release @@ engine/net/layers/pool_rows_body.h @@ vpq##L z = lane_step + (key + (i / 4 + 1) * RNG_GOLDEN); @@ vpq##L z = lane_step + (key + (i / 4) * RNG_GOLDEN);
pool-bf16-odd-codes-misplaced @@ release @@ engine/net/layers/pool_rows_body.h @@ vw##L codes = u16_from_u32_##L((vu##L)(ae | ao << 8)); @@ vw##L codes = u16_from_u32_##L((vu##L)(ae | ao << 4));
pool-bf16-every-dropout-scale-exact @@ release @@ engine/net/layers/pool_rows_body.h @@ else if (pool_scale_is_exact(r->scale)) forward_pairs_##X(r, true, true); @@ else if (1) forward_pairs_##X(r, true, true);
pool-bf16-backward-never-rounds @@ release @@ engine/net/layers/pool_rows_body.h @@ if (pool_scale_is_exact(r->scale)) backward_pairs_##X(r, true); @@ if (1) backward_pairs_##X(r, true);
loader-planes-block-offset-lost @@ release @@ io/input/loader.c @@ for (size_t p = 0; p < n; p++) dst[c * pixels + p0 + p] = block[p * channels + c]; @@ for (size_t p = 0; p < n; p++) dst[c * pixels + p] = block[p * channels + c];
pool-dropped-times-zero @@ release @@ engine/net/layers/pool_rows_body.h @@ v[k] = (vf##V)((vi##V)(v[k] * r->scale) & keep##V(r->key, threshold, lane_step, i)); @@ v[k] *= (vf##V)(keep##V(r->key, threshold, lane_step, i) & (vi##V)((vf##V){0} + r->scale));
pool-bf16-drop-mask-lost @@ release @@ engine/net/layers/pool_rows_body.h @@ w &= (vu##L)keep_pair##L(r->key, threshold, lane_step, i); @@ w &= (vu##L)keep_pair##L(r->key, threshold, lane_step, i) | w;
pool-any-nan-first-replaced @@ release @@ engine/net/layers/maxpool_fused.c @@ if (k == 0 || v > best) best = v, arg = (uint8_t)k; @@ if (k == 0 ? v == v : v > best) best = v, arg = (uint8_t)k;
pool-bf16-threshold-wraps @@ release @@ engine/net/layers/maxpool_fused.c @@ return C % 4 != 0 || w < 0 || threshold > UINT16_MAX ? forward_row_any : k->forward[w][e]; @@ return C % 4 != 0 || w < 0 ? forward_row_any : k->forward[w][e];
EOF
}

die() { echo "mutate.sh: $*" >&2; exit 2; }

field() { # field N of a list line (fields are separated by " @@ ")
  awk -v n="$1" 'BEGIN { FS = " @@ " } { print $n }' <<<"$2"
}

cd "$(dirname "$0")/.." || exit 2
root=$(pwd)

if [ "${1:-}" = "--list" ]; then
  mutants | while IFS= read -r line; do field 1 "$line"; done
  exit 0
fi

if [ "${1:-}" = "--check" ]; then
  bad=0
  while IFS= read -r line; do
    case "$line" in ''|'#'*) continue ;; esac
    name=$(field 1 "$line") file=$(field 3 "$line") search=$(field 4 "$line")
    hits=$(grep -cF -- "$search" "$file" 2>/dev/null)
    if [ "${hits:-0}" != 1 ]; then echo "$name: '$search' occurs ${hits:-0} times in $file"; bad=1; fi
  done < <(mutants)
  exit $bad
fi

selected=("$@")
want() {
  [ ${#selected[@]} -eq 0 ] && return 0
  local s
  for s in "${selected[@]}"; do [ "$s" = "$1" ] && return 0; done
  return 1
}

scratch=$(mktemp -d "${TMPDIR:-/tmp}/gcbench-mutate.XXXXXX") || die "cannot make a scratch folder"
trap 'rm -rf "$scratch"' EXIT
# The tracked files and the untracked ones git does not ignore: this working tree, as it is.
(git ls-files -z --cached --others --exclude-standard | xargs -0 cp --parents -t "$scratch") ||
  die "cannot copy the tree to $scratch"
cd "$scratch" || exit 2

limit=${MUTATE_TIMEOUT:-900} # seconds per mutant: build and suite
configured=""
caught=0 missed=0 equivalent=0 broken=0
missed_names="" log="$scratch/log.txt"
started=$(date +%s)
while IFS= read -r line; do
  case "$line" in ''|'#'*) continue ;; esac
  name=$(field 1 "$line") preset=$(field 2 "$line") file=$(field 3 "$line")
  search=$(field 4 "$line") replace=$(field 5 "$line") note=$(field 6 "$line")
  want "$name" || continue
  case "$note" in "needs "*)
    flag=${note#needs }; flag=${flag%%:*}
    if grep -qw -- "$flag" /proc/cpuinfo 2>/dev/null; then note=""; else note="not observable here: $note"; fi ;;
  esac
  [ -f "$file" ] || die "$name: no file $file"
  original=$(cat "$file"; printf x)
  original=${original%x}
  rest=${original#*"$search"}
  [ "$rest" != "$original" ] || die "$name: '$search' is not in $file"
  case "$rest" in *"$search"*) die "$name: '$search' occurs more than once in $file" ;; esac
  case " $configured " in *" $preset "*) ;; *)
    cmake --preset "$preset" >"$log" 2>&1 || die "configuring preset $preset failed (see a rerun)"
    configured="$configured $preset" ;;
  esac
  printf '%s' "${original%%"$search"*}$replace$rest" >"$file"
  t0=$(date +%s)
  if ! timeout "$limit" cmake --build --preset "$preset" >"$log" 2>&1; then
    verdict="does not build"
    broken=$((broken + 1))
  else
    if [ -n "${MUTATE_TESTS:-}" ]; then
      timeout "$limit" ctest --preset "$preset" --stop-on-failure -R "$MUTATE_TESTS" >"$log" 2>&1
    else
      timeout "$limit" ctest --preset "$preset" --stop-on-failure >"$log" 2>&1
    fi
    rc=$?
    failed=$(sed -n 's/^[[:space:]]*[0-9][0-9]* - \([^ ]*\) (.*)$/\1/p' "$log" | tr '\n' ' ')
    if [ $rc -eq 124 ]; then failed="${failed}(time limit)"; fi
    if [ $rc -ne 0 ]; then
      verdict="caught by ${failed:-ctest exit $rc}"
      [ -z "$note" ] && caught=$((caught + 1))
    else
      verdict="MISSED"
      [ -z "$note" ] && { missed=$((missed + 1)); missed_names="$missed_names $name"; }
    fi
    if [ -n "$note" ]; then verdict="$verdict [$note]"; equivalent=$((equivalent + 1)); fi
  fi
  printf '%s' "$original" >"$file"
  printf '%-34s %-8s %4ss  %s\n' "$name" "$preset" $(( $(date +%s) - t0 )) "$verdict"
  if [ "$verdict" = "does not build" ]; then tail -5 "$log" | sed 's/^/    /'; fi
done < <(mutants)

scored=$((caught + missed))
echo
echo "caught $caught of $scored scored mutants; missed:${missed_names:- none}; equivalent $equivalent;" \
     "not building $broken; $(( $(date +%s) - started )) s"
if [ -n "${MUTATE_TESTS:-}" ]; then
  echo "(only the tests matching '$MUTATE_TESTS' ran: not a score)"
elif [ $scored -gt 0 ]; then
  echo "score: $(( 100 * caught / scored ))%"
fi
[ $missed -eq 0 ] && [ $broken -eq 0 ]
exit
}
