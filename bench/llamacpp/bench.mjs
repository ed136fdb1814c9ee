// llama.cpp half of the anchor benchmark: loads a GGUF with the prebuilt llama.cpp that node-llama-cpp ships, CPU
// backend only, and times a prompt evaluation and greedy decode steps the way `herd bench` times its own engine:
// a short warm-up first, then one prompt of --prompt-len tokens in one batch, then --gen-len single-token steps.
// Prints one JSON object on the last line of stdout. Measures only; checks nothing about the output.
//
// usage: node bench.mjs --model FILE.gguf --prompt-tokens 1,2,3,... --gen-len N --threads N [--mmap]
import os from "node:os";
import fs from "node:fs";
import { performance } from "node:perf_hooks";
import { getLlama, LlamaLogLevel, LlamaLogLevelGreaterThanOrEqual } from "node-llama-cpp";

function parseArgs(argv) {
    const o = { mmap: false };
    for (let i = 0; i < argv.length; i++) {
        const a = argv[i];
        const value = () => {
            if (i + 1 >= argv.length) throw new Error(`${a} needs a value`);
            return argv[++i];
        };
        switch (a) {
            case "--model": o.model = value(); break;
            case "--prompt-tokens": o.promptTokens = value().split(",").map(Number); break;
            case "--gen-len": o.genLen = Number(value()); break;
            case "--threads": o.threads = Number(value()); break;
            case "--mmap": o.mmap = true; break;
            default: throw new Error(`unknown option ${a}`);
        }
    }
    if (!o.model) throw new Error("--model is required");
    if (!o.promptTokens?.length || o.promptTokens.some(t => !Number.isInteger(t) || t < 0))
        throw new Error("--prompt-tokens needs a comma-separated list of token ids");
    if (!(o.genLen > 0)) throw new Error("--gen-len must be positive");
    if (!(o.threads > 0)) o.threads = os.availableParallelism();
    return o;
}

const opts = parseArgs(process.argv.slice(2));
const pkg = JSON.parse(fs.readFileSync(new URL("./node_modules/node-llama-cpp/package.json", import.meta.url)));
const info = JSON.parse(fs.readFileSync(new URL("./node_modules/node-llama-cpp/llama/llama.cpp.info.json", import.meta.url)));

// build: "never": use the shipped binaries or fail; never compile or download at bench time.
// Warnings and errors pass through; of the rest, the lines naming the CPU variant loaded, where each weight went
// (plain CPU buffers, a repacked layout, AMX tiles), flash attention and the batch sizes are kept for the result,
// since they decide which kernels ran.
const setupLog = [];
// Log lines name files under this folder; keep them relative so a result never records the machine's paths.
const benchDir = new URL(".", import.meta.url).pathname;
const llama = await getLlama({
    gpu: false, build: "never", logLevel: LlamaLogLevel.debug,
    logger(level, message) {
        if (LlamaLogLevelGreaterThanOrEqual(level, LlamaLogLevel.warn)) process.stderr.write(`[llama.cpp] ${message}\n`);
        else if (/load_backend|buffer type|buffer size|REPACK|AMX|Flash Attention|n_u?batch/.test(message))
            setupLog.push(message.trim().replaceAll(benchDir, "bench/llamacpp/"));
    },
});
const t0 = performance.now();
// The caller checks MemAvailable itself; node-llama-cpp's own estimate counts reclaimable page cache as used.
const model = await llama.loadModel({ modelPath: opts.model, gpuLayers: 0, useMmap: opts.mmap, ignoreMemorySafetyChecks: true });
const loadSeconds = (performance.now() - t0) / 1e3;
const nTokens = opts.promptTokens.length + opts.genLen;
const context = await model.createContext({
    contextSize: Math.max(64, Math.ceil((nTokens + 16) / 64) * 64),
    batchSize: Math.max(opts.promptTokens.length, 8),
    threads: opts.threads,
    sequences: 1,
    ignoreMemorySafetyChecks: true,
    // A full-size cache for the chunked-attention layers (the chunk, 8192, exceeds the context anyway) spares the
    // state checkpoints node-llama-cpp otherwise copies out between batches, which herd does not pay either.
    swaFullCache: true,
});
const sequence = context.getSequence({ checkpoints: { interval: false } });
const greedy = { temperature: 0, yieldEogToken: true };

/** Evaluates the prompt in one batch and returns [seconds, next token]. */
async function prefill(tokens) {
    const start = performance.now();
    const it = sequence.evaluate(tokens, greedy);
    const first = await it.next();
    const seconds = (performance.now() - start) / 1e3;
    await it.return();
    return [seconds, first.value];
}

/** n single-token steps feeding back each greedy token; returns [seconds, the n tokens produced]. */
async function decode(token, n) {
    const produced = [];
    const start = performance.now();
    const it = sequence.evaluate([token], greedy);
    let next = token;
    for (let step = 0; step < n; step++) {
        const r = await it.next(next); // the first call evaluates `token`; later ones feed the token just produced
        if (r.done) throw new Error(`generation stopped after ${step} of ${n} steps`);
        next = r.value;
        produced.push(next);
    }
    const seconds = (performance.now() - start) / 1e3;
    await it.return();
    return [seconds, produced];
}

// Warm-up as herd bench does it: 8 prompt tokens and 2 decode steps, then start over from an empty sequence.
const [, warmNext] = await prefill(opts.promptTokens.slice(0, Math.min(8, opts.promptTokens.length)));
await decode(warmNext, 2);
await sequence.clearHistory();

const [prefillSeconds, next] = await prefill(opts.promptTokens);
const [decodeSeconds, produced] = await decode(next, opts.genLen);
const round = v => Math.round(v * 1000) / 1000;
const result = {
    engine: "llama.cpp",
    llamaCppRelease: info.tag,
    nodeLlamaCpp: pkg.version,
    backend: "cpu",
    threads: opts.threads,
    mmap: opts.mmap,
    modelBytes: fs.statSync(opts.model).size,
    promptLen: opts.promptTokens.length,
    genLen: opts.genLen,
    loadSeconds: round(loadSeconds),
    prefillSeconds: round(prefillSeconds),
    prefillTokensPerSecond: round(opts.promptTokens.length / prefillSeconds),
    decodeSeconds: round(decodeSeconds),
    decodeTokensPerSecond: round(opts.genLen / decodeSeconds),
    decodeMsPerStep: round(decodeSeconds * 1e3 / opts.genLen),
    rssBytes: process.memoryUsage().rss,
    generatedTokens: [next, ...produced],
    setupLog,
    loadAverageAfter: os.loadavg()[0],
};
await context.dispose();
await model.dispose();
await llama.dispose();
console.log(JSON.stringify(result));
