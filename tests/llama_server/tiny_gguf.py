"""A tiny llama-architecture chat model with random weights, written as one GGUF file with the
`gguf` package's GGUFWriter, for llama.cpp's servers to load.

The vocabulary is SentencePiece-style: the control tokens, the 256 byte tokens (any text can be
written), then words with the "▁" that marks a leading space, and single letters. The chat
template is ChatML. Every embedding holds one large constant, which the output rows of the control
and byte tokens weigh negatively: the end-of-turn token is never likely, so a reply runs to its
token limit (a long reply keeps the server busy for Stop tests, a short one ends by "length"), and
neither are lone bytes, which llama-cpp-python's stream holds back while they are not whole UTF-8
and re-decodes at every token (a random model's replies of them slow it to a crawl).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

# Words of the vocabulary, a few of tests/local/tiny_models.py's (which needs torch; this does not).
WORDS = (
    "the a an of to in and is was on for with at by from that this it as are be were has have "
    "news today city river people team game year week report said says will new old big small "
    "john mary paris london berlin york anna peter rome lake street bank hello there tell me go"
).split()
# ChatML, as tests/local/tiny_models.py's chat model has it.
CHAT_TEMPLATE = (
    "{% for message in messages %}"
    "{{ '<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>' + '\n' }}"
    "{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}"
)

CONTROL = ["<unk>", "<s>", "</s>", "<|im_start|>", "<|im_end|>"]
# gguf's token types: NORMAL 1, UNKNOWN 2, CONTROL 3, BYTE 6
NORMAL, UNKNOWN, CONTROL_TYPE, BYTE = 1, 2, 3, 6
CONTEXT_TRAINED = 8192
SIZES = dict(embedding=256, blocks=4, feed_forward=768, heads=4, kv_heads=2)
OUTPUT_SPREAD = 4.0  # the spread of the words' logits
CONSTANT, UNLIKELY = 8.0, -3.0  # the constant in every embedding; how the unlikely rows weigh it


def vocabulary() -> tuple[list[str], list[float], list[int]]:
    """Tokens, their scores (merge priority: longer pieces first) and their types."""
    words = [f"▁{w}" for w in WORDS]
    letters = [chr(c) for c in range(ord("a"), ord("z") + 1)]
    pieces = list(dict.fromkeys(["▁", *words, *(f"▁{c}" for c in letters), *letters]))
    tokens = [*CONTROL, *(f"<0x{b:02X}>" for b in range(256)), *pieces]
    scores = [0.0] * (len(CONTROL) + 256) + [float(len(p)) - 100 for p in pieces]
    types = [UNKNOWN, *[CONTROL_TYPE] * 4, *[BYTE] * 256, *[NORMAL] * len(pieces)]
    return tokens, scores, types


def build_gguf(path: Path, seed: int = 0) -> Path:
    """Write the model to `path` (about 15 MB, well under a second) and return it."""
    import gguf

    tokens, scores, types = vocabulary()
    n_vocab, n_embd = len(tokens), SIZES["embedding"]
    n_ff, n_head, n_kv = SIZES["feed_forward"], SIZES["heads"], SIZES["kv_heads"]
    head_dim = n_embd // n_head
    writer = gguf.GGUFWriter(str(path), "llama")
    writer.add_name("tiny-llama-chat")
    writer.add_context_length(CONTEXT_TRAINED)
    writer.add_embedding_length(n_embd)
    writer.add_block_count(SIZES["blocks"])
    writer.add_feed_forward_length(n_ff)
    writer.add_head_count(n_head)
    writer.add_head_count_kv(n_kv)
    writer.add_rope_dimension_count(head_dim)
    writer.add_layer_norm_rms_eps(1e-5)
    writer.add_file_type(gguf.LlamaFileType.ALL_F32)
    writer.add_tokenizer_model("llama")
    writer.add_token_list(tokens)
    writer.add_token_scores(scores)
    writer.add_token_types(types)
    writer.add_unk_token_id(0)
    writer.add_bos_token_id(1)
    writer.add_eos_token_id(CONTROL.index("<|im_end|>"))
    writer.add_add_bos_token(False)
    writer.add_chat_template(CHAT_TEMPLATE)
    for name, tensor in tensors(n_vocab, n_embd, n_ff, n_kv * head_dim, seed):
        writer.add_tensor(name, tensor)
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    return path


def tensors(n_vocab: int, n_embd: int, n_ff: int, n_kv_dim: int, seed: int):
    """(name, array) in llama.cpp's names; arrays are (out, in) as transformers keeps them."""
    rng = np.random.default_rng(seed)

    def random(*shape: int, scale: float = 0.02) -> np.ndarray:
        return (rng.standard_normal(shape) * scale).astype(np.float32)

    ones = np.ones(n_embd, dtype=np.float32)
    embedding = random(n_vocab, n_embd, scale=1.0)
    embedding[:, 0] = CONSTANT  # about CONSTANT / 1.1 still after the last norm, whatever came
    output = random(n_vocab, n_embd, scale=OUTPUT_SPREAD / np.sqrt(n_embd))
    output[:, 0] = 0.0
    unlikely = len(CONTROL) + 256  # control and byte tokens: a logit near -20, words near 0 ± 4
    output[:unlikely] = 0.0
    output[:unlikely, 0] = UNLIKELY
    yield "token_embd.weight", embedding
    yield "output_norm.weight", ones
    yield "output.weight", output
    for block in range(SIZES["blocks"]):
        prefix = f"blk.{block}"
        yield f"{prefix}.attn_norm.weight", ones
        yield f"{prefix}.attn_q.weight", random(n_embd, n_embd)
        yield f"{prefix}.attn_k.weight", random(n_kv_dim, n_embd)
        yield f"{prefix}.attn_v.weight", random(n_kv_dim, n_embd)
        yield f"{prefix}.attn_output.weight", random(n_embd, n_embd)
        yield f"{prefix}.ffn_norm.weight", ones
        yield f"{prefix}.ffn_gate.weight", random(n_ff, n_embd)
        yield f"{prefix}.ffn_up.weight", random(n_ff, n_embd)
        yield f"{prefix}.ffn_down.weight", random(n_embd, n_ff)
