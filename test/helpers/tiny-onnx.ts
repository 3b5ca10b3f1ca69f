/**
 * A minimal ONNX writer for tests: the protobuf wire format of ModelProto, GraphProto, NodeProto,
 * TensorProto, ValueInfoProto and AttributeProto, by hand (no onnx package is available here). Field numbers
 * follow onnx/onnx.proto; only what tiny test models need is written.
 */

// Protobuf wire types.
const VARINT = 0;
const LENGTH_DELIMITED = 2;
const FIXED32 = 5;

class ProtoWriter {
  private readonly parts: Buffer[] = [];

  private tag(field: number, wireType: number): void {
    this.raw(varint(BigInt((field << 3) | wireType)));
  }

  private raw(bytes: Buffer): void {
    this.parts.push(bytes);
  }

  int(field: number, value: number): this {
    this.tag(field, VARINT);
    // Negative int64 values are written as their 64-bit two's complement (10 bytes).
    this.raw(varint(BigInt.asUintN(64, BigInt(value))));
    return this;
  }

  float(field: number, value: number): this {
    this.tag(field, FIXED32);
    const bytes = Buffer.alloc(4);
    bytes.writeFloatLE(value);
    this.raw(bytes);
    return this;
  }

  bytes(field: number, value: Buffer): this {
    this.tag(field, LENGTH_DELIMITED);
    this.raw(varint(BigInt(value.length)));
    this.raw(value);
    return this;
  }

  string(field: number, value: string): this {
    return this.bytes(field, Buffer.from(value, 'utf8'));
  }

  message(field: number, message: ProtoWriter): this {
    return this.bytes(field, message.finish());
  }

  finish(): Buffer {
    return Buffer.concat(this.parts);
  }
}

function varint(value: bigint): Buffer {
  const bytes: number[] = [];
  let rest = value;
  do {
    let byte = Number(rest & 0x7fn);
    rest >>= 7n;
    if (rest > 0n) byte |= 0x80;
    bytes.push(byte);
  } while (rest > 0n);
  return Buffer.from(bytes);
}

/** An attribute of a node: int (INT), float (FLOAT) or ints (INTS). */
export type TinyAttribute = { int: number } | { float: number } | { ints: number[] };

export interface TinyNode {
  op: string;
  inputs: string[];
  outputs: string[];
  attributes?: Record<string, TinyAttribute>;
}

/** A float32 constant (weights, biases). */
export interface TinyInitializer {
  name: string;
  dims: number[];
  values: number[];
}

/** A float32 graph input or output; a string dimension is symbolic (e.g. "batch"). */
export interface TinyValue {
  name: string;
  shape: (number | string)[];
}

export interface TinyGraph {
  nodes: TinyNode[];
  initializers?: TinyInitializer[];
  inputs: TinyValue[];
  outputs: TinyValue[];
  /** Default opset 13. */
  opset?: number;
}

const FLOAT_TENSOR = 1; // TensorProto.DataType.FLOAT
const attributeTypes = { float: 1, int: 2, ints: 7 } as const; // AttributeProto.AttributeType

function attribute(name: string, value: TinyAttribute): ProtoWriter {
  const writer = new ProtoWriter().string(1, name);
  if ('int' in value) return writer.int(3, value.int).int(20, attributeTypes.int);
  if ('float' in value) return writer.float(2, value.float).int(20, attributeTypes.float);
  for (const item of value.ints) writer.int(8, item);
  return writer.int(20, attributeTypes.ints);
}

function node(spec: TinyNode, index: number): ProtoWriter {
  const writer = new ProtoWriter();
  for (const input of spec.inputs) writer.string(1, input);
  for (const output of spec.outputs) writer.string(2, output);
  writer.string(3, `${spec.op.toLowerCase()}_${index}`).string(4, spec.op);
  for (const [name, value] of Object.entries(spec.attributes ?? {}))
    writer.message(5, attribute(name, value));
  return writer;
}

function initializer(spec: TinyInitializer): ProtoWriter {
  const writer = new ProtoWriter();
  for (const dim of spec.dims) writer.int(1, dim);
  const raw = Buffer.alloc(spec.values.length * 4);
  spec.values.forEach((value, index) => raw.writeFloatLE(value, index * 4));
  return writer.int(2, FLOAT_TENSOR).string(8, spec.name).bytes(9, raw);
}

function valueInfo(spec: TinyValue): ProtoWriter {
  const shape = new ProtoWriter();
  for (const dim of spec.shape) {
    shape.message(
      1,
      typeof dim === 'number' ? new ProtoWriter().int(1, dim) : new ProtoWriter().string(2, dim),
    );
  }
  const tensorType = new ProtoWriter().int(1, FLOAT_TENSOR).message(2, shape);
  return new ProtoWriter().string(1, spec.name).message(2, new ProtoWriter().message(1, tensorType));
}

/** Serialises a graph as an ONNX ModelProto (IR version 8, default domain). */
export function encodeOnnxModel(graph: TinyGraph): Buffer {
  const graphWriter = new ProtoWriter();
  graph.nodes.forEach((spec, index) => graphWriter.message(1, node(spec, index)));
  graphWriter.string(2, 'tiny');
  for (const spec of graph.initializers ?? []) graphWriter.message(5, initializer(spec));
  for (const spec of graph.inputs) graphWriter.message(11, valueInfo(spec));
  for (const spec of graph.outputs) graphWriter.message(12, valueInfo(spec));
  return new ProtoWriter()
    .int(1, 8)
    .string(2, 'guardian-tests')
    .message(7, graphWriter)
    .message(8, new ProtoWriter().string(1, '').int(2, graph.opset ?? 13))
    .finish();
}

export interface ChannelMeanModelOptions {
  /** Input side in pixels (square); default 8. */
  size?: number;
  layout?: 'NCHW' | 'NHWC';
  inputName?: string;
  outputName?: string;
  /** One row of three channel weights per output: output k = Σ_c weights[k][c] · mean(channel c) + bias[k]. */
  weights: number[][];
  bias: number[];
  /** Appends a Softmax over the outputs. */
  softmax?: boolean;
}

/**
 * A model whose answer is known in closed form: the per-channel means of the input (GlobalAveragePool),
 * then a linear layer (Gemm). With weights [[8, 0, 0]] and bias [-4] its logit is 8·mean(red) − 4.
 */
export function channelMeanModel(options: ChannelMeanModelOptions): Buffer {
  const size = options.size ?? 8;
  const inputName = options.inputName ?? 'image';
  const outputName = options.outputName ?? 'logits';
  const outputs = options.weights.length;
  const nodes: TinyNode[] = [];
  let image = inputName;
  if (options.layout === 'NHWC') {
    nodes.push({
      op: 'Transpose',
      inputs: [inputName],
      outputs: ['nchw'],
      attributes: { perm: { ints: [0, 3, 1, 2] } },
    });
    image = 'nchw';
  }
  const linear = options.softmax ? 'linear' : outputName;
  nodes.push(
    { op: 'GlobalAveragePool', inputs: [image], outputs: ['pooled'] },
    { op: 'Flatten', inputs: ['pooled'], outputs: ['means'], attributes: { axis: { int: 1 } } },
    {
      op: 'Gemm',
      inputs: ['means', 'weights', 'bias'],
      outputs: [linear],
      attributes: { transB: { int: 1 } },
    },
  );
  if (options.softmax) {
    nodes.push({ op: 'Softmax', inputs: [linear], outputs: [outputName], attributes: { axis: { int: 1 } } });
  }
  return encodeOnnxModel({
    nodes,
    initializers: [
      { name: 'weights', dims: [outputs, 3], values: options.weights.flat() },
      { name: 'bias', dims: [outputs], values: options.bias },
    ],
    inputs: [{ name: inputName, shape: options.layout === 'NHWC' ? [1, size, size, 3] : [1, 3, size, size] }],
    outputs: [{ name: outputName, shape: [1, outputs] }],
  });
}

/** What `channelMeanModel` computes, worked out in plain TypeScript (double precision) from an input tensor. */
export function channelMeanReference(options: ChannelMeanModelOptions, tensor: Float32Array): number[] {
  const pixels = tensor.length / 3;
  const means = [0, 1, 2].map((channel) => {
    let sum = 0;
    for (let pixel = 0; pixel < pixels; pixel++) {
      sum += tensor[options.layout === 'NHWC' ? pixel * 3 + channel : channel * pixels + pixel] as number;
    }
    return sum / pixels;
  });
  const linear = options.weights.map(
    (row, k) =>
      row.reduce((total, weight, channel) => total + weight * (means[channel] as number), 0) +
      (options.bias[k] as number),
  );
  if (!options.softmax) return linear;
  const max = Math.max(...linear);
  const exps = linear.map((value) => Math.exp(value - max));
  const sum = exps.reduce((total, value) => total + value, 0);
  return exps.map((value) => value / sum);
}
