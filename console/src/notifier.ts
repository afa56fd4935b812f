/**
 * Tells the operator about a new critical alert even when the console is behind another window: a short
 * two-tone beep (WebAudio, no audio file) and a flashing tab title. Mute is remembered per browser.
 */
const MUTE_KEY = 'ioc.console.muted';
const MIN_BEEP_INTERVAL_MS = 2000;
const FLASH_MS = 900;
const FLASH_MAX_MS = 60_000;

export interface Notifier {
  readonly muted: boolean;
  setMuted(muted: boolean): void;
  /** must be called from a user gesture once, or browsers keep the audio context suspended */
  unlockAudio(): void;
  notifyCritical(text: string): void;
  setBaseTitle(title: string): void;
  dispose(): void;
}

export function createNotifier(): Notifier {
  let muted = false;
  try {
    muted = localStorage.getItem(MUTE_KEY) === '1';
  } catch {
    /* storage disabled */
  }
  let audio: AudioContext | undefined;
  let lastBeep = 0;
  let baseTitle = document.title;
  let flashTimer: ReturnType<typeof setInterval> | undefined;
  let flashUntil = 0;
  let flashText = '';

  const stopFlash = () => {
    clearInterval(flashTimer);
    flashTimer = undefined;
    document.title = baseTitle;
  };
  const onAttention = () => {
    if (flashTimer && document.visibilityState === 'visible') stopFlash();
  };
  window.addEventListener('pointerdown', onAttention);
  window.addEventListener('keydown', onAttention);

  const beep = () => {
    if (muted) return;
    const now = Date.now();
    if (now - lastBeep < MIN_BEEP_INTERVAL_MS) return; // a burst of criticals is one alarm, not a siren
    lastBeep = now;
    try {
      audio ??= new AudioContext();
      const t0 = audio.currentTime;
      for (const [offset, freq] of [
        [0, 880],
        [0.22, 660],
      ] as const) {
        const osc = audio.createOscillator();
        const gain = audio.createGain();
        osc.type = 'sine';
        osc.frequency.value = freq;
        gain.gain.setValueAtTime(0.0001, t0 + offset);
        gain.gain.exponentialRampToValueAtTime(0.4, t0 + offset + 0.02);
        gain.gain.exponentialRampToValueAtTime(0.0001, t0 + offset + 0.18);
        osc.connect(gain).connect(audio.destination);
        osc.start(t0 + offset);
        osc.stop(t0 + offset + 0.2);
      }
    } catch {
      // no audio device on this wall PC: the title flash and the red row still tell
    }
  };

  return {
    get muted() {
      return muted;
    },
    setMuted(next) {
      muted = next;
      try {
        localStorage.setItem(MUTE_KEY, next ? '1' : '0');
      } catch {
        /* storage disabled */
      }
    },
    unlockAudio() {
      try {
        audio ??= new AudioContext();
        void audio.resume();
      } catch {
        /* no audio */
      }
    },
    notifyCritical(text) {
      beep();
      flashText = text;
      flashUntil = Date.now() + FLASH_MAX_MS;
      if (flashTimer) return;
      let on = false;
      flashTimer = setInterval(() => {
        if (Date.now() > flashUntil) return stopFlash();
        on = !on;
        document.title = on ? flashText : baseTitle;
      }, FLASH_MS);
      document.title = flashText;
    },
    setBaseTitle(title) {
      baseTitle = title;
      if (!flashTimer) document.title = title;
    },
    dispose() {
      stopFlash();
      window.removeEventListener('pointerdown', onAttention);
      window.removeEventListener('keydown', onAttention);
      void audio?.close();
    },
  };
}
