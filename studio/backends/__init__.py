"""Every way of reaching a model, behind one contract (`base.Backend`), chosen by protocol name.

    get_completion(endpoint, inputs, parameters)   the helper every tab calls, for one answer
    chat_request(endpoint, messages, settings)     a chat turn as data (pure)
    stream_chat(endpoint, request, cancel)         the reply as `Delta`s; Cancel stops it

    protocol  module         speaks
    task      task_api       the Hugging Face task API (router hf-inference, endpoints, toolkit)
    openai    openai_chat    OpenAI-compatible chat completions (router /v1, vLLM, llama.cpp,
                             transformers serve); `self_hosted`: how servers of one's own differ
    tgi       tgi            TGI's /generate_stream with a prompt template
    providers providers      text to image on any Inference Provider (huggingface_hub's helpers)
    local     local          models in this process (the optional extra)

A new server type is one module and one line in `registry.BACKENDS`. The HTTP ones send through
`transport` (retries, deadlines, size caps, status -> error, stream framing), which imports none
of them. This file imports nothing, so the registry and the protocol modules never import each
other through it.
"""
