// Protobuf transcoding, compile step: the definitions parsed at load (config/extensions/
// protobuf.ts) become a protobufjs Root once per worker, and the request and response
// messages get their JSON mapping plans (json-mapping.ts). The run step is run.ts.
import protobuf from 'protobufjs'
import type { ProtobufSource } from '../../config/model.js'
import { planFor, type MessagePlan } from './json-mapping.js'

export interface CompiledProtobuf {
  /** true: gRPC unary over HTTP/2 cleartext; false: application/x-protobuf over HTTP/1.1. */
  readonly grpc: boolean
  /** The request message's mapping plan (its protobufjs Type is plan.type). */
  readonly request: MessagePlan
  /** The response message's mapping plan. */
  readonly response: MessagePlan
  /** Unknown JSON fields and enum names are dropped instead of refused. */
  readonly discardUnknown: boolean
}

/**
 * Roots by descriptor object: operations naming one .proto file share its descriptor (the
 * loader makes one, structured clone keeps it one), so a worker builds each Root once.
 */
const roots = new WeakMap<object, protobuf.Root>()

function rootOf(descriptor: Readonly<Record<string, unknown>>): protobuf.Root {
  let root = roots.get(descriptor)
  if (root === undefined) {
    root = protobuf.Root.fromJSON(descriptor as protobuf.INamespace)
    root.resolveAll()
    roots.set(descriptor, root)
  }
  return root
}

export function compileProtobuf(src: ProtobufSource): CompiledProtobuf {
  const root = rootOf(src.descriptor)
  return Object.freeze({
    grpc: src.grpc,
    request: planFor(root.lookupType('.' + src.request)),
    response: planFor(root.lookupType('.' + src.response)),
    discardUnknown: src.discardUnknown,
  })
}
