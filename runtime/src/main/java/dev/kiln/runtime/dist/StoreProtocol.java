package dev.kiln.runtime.dist;

import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.net.ProtocolException;
import java.nio.BufferUnderflowException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;

/**
 * The rendezvous store's wire format. Every message is a frame: a big-endian {@code int} length,
 * then that many bytes, the first of which is an opcode (requests) or a status (replies).
 *
 * <pre>
 * request  HELLO  magic:int version:byte
 *          SET    key value
 *          GET    key timeoutMillis:long
 *          ADD    key delta:long
 * reply    OK [value | counter:long]   TIMED_OUT   ERROR message:utf8   HEARTBEAT
 * key   = length:u16 utf8      value = length:int bytes
 * </pre>
 *
 * A server waiting to answer a GET sends a HEARTBEAT every heartbeat interval, so a client tells a
 * slow answer from a server that is gone without a TCP keep-alive measured in hours.
 */
final class StoreProtocol {
    private StoreProtocol() {}

    static final int MAGIC = 0x4B494C4E; // "KILN": a client that reached another service fails at once
    static final byte VERSION = 1;

    static final byte HELLO = 1, SET = 2, GET = 3, ADD = 4;
    static final byte OK = 0, TIMED_OUT = 1, ERROR = 2, HEARTBEAT = 3;

    static final int MAX_KEY_BYTES = 4096;

    /** Writes one frame; the caller flushes. */
    static void writeFrame(DataOutputStream out, ByteBuffer body) throws IOException {
        out.writeInt(body.remaining());
        out.write(body.array(), body.arrayOffset() + body.position(), body.remaining());
    }

    /** One frame's body, or null at a clean end of stream (the peer closed between frames). */
    static ByteBuffer readFrame(DataInputStream in, int maxBytes) throws IOException {
        int first = in.read();
        if (first < 0) return null;
        int length = (first << 24) | (in.readUnsignedByte() << 16) | (in.readUnsignedByte() << 8) | in.readUnsignedByte();
        if (length < 1 || length > maxBytes)
            throw new ProtocolException("frame of " + Integer.toUnsignedString(length) + " bytes, outside [1, " + maxBytes + "]");
        byte[] body = new byte[length];
        try {
            in.readFully(body);
        } catch (EOFException e) {
            throw new ProtocolException("stream ended inside a frame of " + length + " bytes");
        }
        return ByteBuffer.wrap(body);
    }

    static byte[] keyBytes(String key) {
        if (key.isEmpty()) throw new IllegalArgumentException("a store key must not be empty");
        byte[] b = key.getBytes(StandardCharsets.UTF_8);
        if (b.length > MAX_KEY_BYTES)
            throw new IllegalArgumentException("store key of " + b.length + " UTF-8 bytes is over the limit of " + MAX_KEY_BYTES);
        return b;
    }

    static void putKey(ByteBuffer b, byte[] key) { b.putShort((short) key.length).put(key); }

    static void putValue(ByteBuffer b, byte[] value) { b.putInt(value.length).put(value); }

    static String getKey(ByteBuffer b) throws ProtocolException {
        int n = Short.toUnsignedInt(getShort(b));
        if (n == 0 || n > MAX_KEY_BYTES) throw new ProtocolException("key of " + n + " bytes, outside [1, " + MAX_KEY_BYTES + "]");
        return new String(getBytes(b, n), StandardCharsets.UTF_8);
    }

    static byte[] getValue(ByteBuffer b) throws ProtocolException {
        int n = getInt(b);
        if (n < 0 || n > b.remaining()) throw new ProtocolException("value of " + n + " bytes in a frame with " + b.remaining() + " left");
        return getBytes(b, n);
    }

    static byte getByte(ByteBuffer b) throws ProtocolException {
        try { return b.get(); } catch (BufferUnderflowException e) { throw truncated(); }
    }

    static short getShort(ByteBuffer b) throws ProtocolException {
        try { return b.getShort(); } catch (BufferUnderflowException e) { throw truncated(); }
    }

    static int getInt(ByteBuffer b) throws ProtocolException {
        try { return b.getInt(); } catch (BufferUnderflowException e) { throw truncated(); }
    }

    static long getLong(ByteBuffer b) throws ProtocolException {
        try { return b.getLong(); } catch (BufferUnderflowException e) { throw truncated(); }
    }

    static void expectEnd(ByteBuffer b) throws ProtocolException {
        if (b.hasRemaining()) throw new ProtocolException(b.remaining() + " unexpected bytes at the end of a frame");
    }

    private static byte[] getBytes(ByteBuffer b, int n) throws ProtocolException {
        if (n > b.remaining()) throw truncated();
        byte[] out = new byte[n];
        b.get(out);
        return out;
    }

    private static ProtocolException truncated() { return new ProtocolException("frame ends before its fields do"); }
}
