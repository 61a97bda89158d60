import {
  DEFAULT_MAX_FRAME_SIZE,
  DEFAULT_WINDOW,
  ErrorCode,
  MAX_ALLOWED_FRAME_SIZE,
  MAX_WINDOW,
  Setting,
} from './protocol.js';

/** The peer's settings that shape what we send (RFC 9113 §6.5.2); the rest are ignored. */
export interface PeerSettings {
  initialWindow: number;
  maxFrameSize: number;
}

export function defaultPeerSettings(): PeerSettings {
  return { initialWindow: DEFAULT_WINDOW, maxFrameSize: DEFAULT_MAX_FRAME_SIZE };
}

/**
 * Applies a SETTINGS payload (length already a multiple of 6). Returns the change of the initial
 * window (for the open streams' send windows), or the connection error a bad value is.
 */
export function applySettings(
  settings: PeerSettings,
  payload: Buffer,
): { windowDelta: number } | { error: ErrorCode } {
  let windowDelta = 0;
  for (let at = 0; at < payload.length; at += 6) {
    const id = payload.readUInt16BE(at);
    const value = payload.readUInt32BE(at + 2);
    switch (id) {
      case Setting.ENABLE_PUSH:
        if (value > 1) return { error: ErrorCode.PROTOCOL_ERROR };
        break;
      case Setting.INITIAL_WINDOW_SIZE:
        if (value > MAX_WINDOW) return { error: ErrorCode.FLOW_CONTROL_ERROR };
        windowDelta += value - settings.initialWindow;
        settings.initialWindow = value;
        break;
      case Setting.MAX_FRAME_SIZE:
        if (value < DEFAULT_MAX_FRAME_SIZE || value > MAX_ALLOWED_FRAME_SIZE) {
          return { error: ErrorCode.PROTOCOL_ERROR };
        }
        settings.maxFrameSize = value;
        break;
      default:
      // HEADER_TABLE_SIZE: we never index, so the peer's table size does not matter to our
      // encoder; MAX_CONCURRENT_STREAMS: we open none; unknown settings are ignored (§6.5.2).
    }
  }
  return { windowDelta };
}
