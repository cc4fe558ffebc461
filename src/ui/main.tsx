import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { trackActivity } from './activity';
import { shareSessionKey } from './session';
import { App } from './App';
import './styles.css';

trackActivity();
shareSessionKey();
const root = document.getElementById('root');
if (root) {
  createRoot(root).render(
    <StrictMode>
      <App />
    </StrictMode>,
  );
}
