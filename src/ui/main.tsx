import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { trackActivity } from './activity';
import { App } from './App';
import './styles.css';

trackActivity();
const root = document.getElementById('root');
if (root) {
  createRoot(root).render(
    <StrictMode>
      <App />
    </StrictMode>,
  );
}
