import { useAppStore } from '../store';

/** Errors and warnings, each dismissible; the app keeps working behind them. */
export function Messages() {
  const messages = useAppStore((s) => s.messages);
  const dismiss = useAppStore((s) => s.dismissMessage);
  if (messages.length === 0) return null;
  return (
    <ul className="messages" aria-label="Messages">
      {messages.map((message, i) => (
        <li key={`${i}-${message}`} role="alert">
          <span>{message}</span>
          <button type="button" onClick={() => dismiss(i)} aria-label="Dismiss message">
            ×
          </button>
        </li>
      ))}
    </ul>
  );
}
